"""A forward step of the station's clock does not make the footage stamped before it look old to retention.

The field case: a mini-PC with a flat CMOS battery boots with its clock in the past, records, and NTP (or the
officer) then sets the clock right. Before, the next retention pass deleted everything recorded before the step.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from detect.motion_grid import MotionSecond
from storage.clock_steps import ClockStep, ClockSteps, Piece
from storage.clock_watch import ClockReading, ClockWatch
from storage.events import EventStore
from storage.index import RecordingIndex, Segment
from storage.leases import SegmentLeases
from storage.motion_grids import MotionGridStore
from storage.reserve import SpaceReserve
from storage.retention import Retention, RetentionPolicy
from storage.usage import storage_usage
from tests.test_retention import MINUTE, NOW, fill, remaining

BOOTED_AT = 100 * MINUTE  # what the flat-battery clock read at boot
STEP_AFTER = 5 * MINUTE  # NTP set it right this long after boot, to NOW
LATER = 200 * MINUTE


class Readings:
    """The clock as a test sets it: each `check` reads the next reading."""

    def __init__(self, *readings: ClockReading) -> None:
        self._readings = list(readings)

    def __call__(self) -> ClockReading:
        return self._readings.pop(0)


@pytest.fixture
def index(database_url: str) -> Iterator[RecordingIndex]:
    created = RecordingIndex(database_url, "post")
    yield created
    created.close()


def booted_in_the_past(index: RecordingIndex, tmp_path: Path, policy: RetentionPolicy) -> Retention:
    """Footage of an earlier boot stamped right (9700, 9850); a retention pass at boot on the wrong clock; then
    footage of this boot stamped before the step (100-103) and after it (9990), and the clock read again after it."""
    fill(index, tmp_path, [9700, 9850])
    up = 30_000  # the service's first reading, after the machine booted
    readings = Readings(ClockReading("boot-2", up, BOOTED_AT), ClockReading("boot-2", up + STEP_AFTER, NOW),
                        ClockReading("boot-2", up + STEP_AFTER + LATER, NOW + LATER))
    events = EventStore(index)
    grids = MotionGridStore(index)
    retention = Retention(index, tmp_path, policy, SegmentLeases(), free_bytes=lambda: 10**12, events=events,
                          grids=grids, clock=ClockWatch(index, readings))
    assert retention.enforce(BOOTED_AT) == []
    fill(index, tmp_path, [100, 101, 102, 103, 9990])
    for minute in (9700, 101):
        events.update(events.open("a", "motion", minute * MINUTE, 0.9, []).id, end_ms=minute * MINUTE + 30_000)
    grids.add([MotionSecond("a", minute * 60 + 30, bytes([1] * 18)) for minute in (9700, 102)])
    return retention


def test_footage_stamped_before_a_forward_step_is_judged_by_its_real_age(index: RecordingIndex,
                                                                        tmp_path: Path) -> None:
    policy = RetentionPolicy(max_age_ms=200 * MINUTE, max_bytes=None, min_free_bytes=0)
    retention = booted_in_the_past(index, tmp_path, policy)
    deleted = retention.enforce(NOW)
    assert [s.start_ms // MINUTE for s in deleted] == [9700]  # the earlier boot's old footage goes as it should
    assert remaining(index) == [100, 101, 102, 103, 9850, 9990]
    assert retention.clock_steps.steps == (ClockStep(BOOTED_AT + STEP_AFTER, NOW, since_ms=BOOTED_AT - 30_000),)
    events = EventStore(index)
    found = events.query(cameras=None, types=None, start_ms=0, end_ms=2**62, limit=10)
    assert [e.start_ms // MINUTE for e in found] == [101]
    grids = MotionGridStore(index)
    assert (grids.grids("a", 0, 2**62).seconds // 60).tolist() == [102]
    real_age = NOW - retention.clock_steps.real_ms(100 * MINUTE)
    assert real_age == NOW - (NOW - STEP_AFTER)  # recorded five minutes before the step, which was just now
    # by their real age, the minutes before the step are now too old
    assert [s.start_ms // MINUTE for s in retention.enforce(NOW + LATER)] == [9850, 9990, 100, 101, 102, 103]


def test_the_days_kept_count_from_the_footage_recorded_first_not_the_least_stamp(index: RecordingIndex,
                                                                                 tmp_path: Path) -> None:
    retention = booted_in_the_past(index, tmp_path, RetentionPolicy(200 * MINUTE, None, 0))
    retention.enforce(NOW)
    usage = storage_usage(index, tmp_path, SpaceReserve(tmp_path / "reserve", 0), ["a"], retention.clock_steps)
    assert (usage.cameras[0].oldest_ms, usage.cameras[0].oldest_real_ms) == (9850 * MINUTE, 9850 * MINUTE)


def test_a_step_leaves_the_footage_of_earlier_boots_alone(index: RecordingIndex, tmp_path: Path) -> None:
    """A flat battery with systemd-timesyncd: the clock boots at the last shutdown's time. Boot 1 recorded
    9000-9009 on a right clock and stopped at 9010; the machine was off 300 minutes; boot 2 began at 9010 on its
    clock, recorded 9010-9012, and NTP set it to 9313. Boot 1's footage is 313 minutes old, beyond the 200 kept
    (found in review: the step was given to it too, and every later boot's would have been)."""
    fill(index, tmp_path, list(range(9000, 9010)))
    readings = Readings(ClockReading("boot-2", 0, 9010 * MINUTE), ClockReading("boot-2", 3 * MINUTE, 9313 * MINUTE))
    policy = RetentionPolicy(max_age_ms=200 * MINUTE, max_bytes=None, min_free_bytes=0)
    retention = Retention(index, tmp_path, policy, SegmentLeases(), free_bytes=lambda: 10**12,
                          clock=ClockWatch(index, readings))
    retention.enforce(9010 * MINUTE)
    fill(index, tmp_path, [9010, 9011, 9012])
    retention.enforce(9313 * MINUTE)
    assert remaining(index) == [9010, 9011, 9012]


def test_the_grid_of_the_minute_of_a_step_stays_with_its_footage(index: RecordingIndex, tmp_path: Path) -> None:
    """The step noticed halfway through minute 102: that minute's seconds were stamped before it (found in review:
    the minute was judged by its end, after the step, and its grid went at once while its footage stayed)."""
    readings = Readings(ClockReading("b", 0, 100 * MINUTE), ClockReading("b", 150_000, NOW))
    grids = MotionGridStore(index)
    policy = RetentionPolicy(max_age_ms=200 * MINUTE, max_bytes=None, min_free_bytes=0)
    retention = Retention(index, tmp_path, policy, SegmentLeases(), free_bytes=lambda: 10**12, grids=grids,
                          clock=ClockWatch(index, readings))
    retention.enforce(100 * MINUTE)
    fill(index, tmp_path, [100, 101])
    (tmp_path / "a/day/102.mp4").write_bytes(b"x")
    index.add_segment(Segment("a", "a/day/102.mp4", 102 * MINUTE, 102 * MINUTE + 20_000, 1))
    grids.add([MotionSecond("a", minute * 60 + 10, bytes([1] * 18)) for minute in (100, 101, 102)])
    retention.enforce(NOW)
    assert remaining(index) == [100, 101, 102]
    assert (grids.grids("a", 0, 2**62).seconds // 60).tolist() == [100, 101, 102]


def test_the_quota_takes_the_oldest_by_real_age(index: RecordingIndex, tmp_path: Path) -> None:
    policy = RetentionPolicy(max_age_ms=200 * MINUTE, max_bytes=3000, min_free_bytes=0)
    retention = booted_in_the_past(index, tmp_path, policy)
    assert [s.start_ms // MINUTE for s in retention.enforce(NOW)] == [9700, 9850, 9990, 100]
    assert remaining(index) == [101, 102, 103]


def test_a_step_is_seen_across_a_restart_of_the_service_but_not_across_a_reboot(index: RecordingIndex,
                                                                              tmp_path: Path) -> None:
    fill(index, tmp_path, [100])
    ClockWatch(index, Readings(ClockReading("boot-1", 0, BOOTED_AT))).check()
    restarted = ClockWatch(index, Readings(ClockReading("boot-1", MINUTE, BOOTED_AT + MINUTE + 59_000),
                                           ClockReading("boot-1", 2 * MINUTE, NOW)))
    assert restarted.check().steps == ()  # 59 s: too small to matter
    seen = restarted.check().steps
    assert seen == (ClockStep(BOOTED_AT + 2 * MINUTE + 59_000, NOW, since_ms=BOOTED_AT),)
    rebooted = ClockWatch(index, Readings(ClockReading("boot-2", 0, NOW + 400 * MINUTE)))
    assert rebooted.check().steps == seen  # a new boot: nothing to compare with, the old step stays


def test_a_step_is_forgotten_once_nothing_stamped_before_it_is_left(index: RecordingIndex, tmp_path: Path) -> None:
    fill(index, tmp_path, [100, 9990])
    watch = ClockWatch(index, Readings(ClockReading("b", 0, BOOTED_AT), ClockReading("b", STEP_AFTER, NOW),
                                       ClockReading("b", STEP_AFTER + 1000, NOW + 1000)))
    watch.check()
    assert len(watch.check().steps) == 1
    first = next(s for s in index.all_segments() if s.start_ms == 100 * MINUTE)
    assert first.id is not None and index.delete_segment(first.id)
    assert watch.check().steps == ()


def test_pieces_of_the_stamp_axis_with_the_boots_of_the_steps() -> None:
    """Two boots that each began in the past (at 0 and at 3000 on their clocks), each set right; the first boot
    was set twice. Stamps below a boot's beginning are an earlier boot's: its steps leave them alone."""
    steps = ClockSteps([ClockStep(100, 1000, since_ms=0), ClockStep(1500, 2000, since_ms=0),
                        ClockStep(3100, 9000, since_ms=3000)])
    assert [steps.real_ms(stamp) for stamp in (0, 50, 100, 101, 1500, 1501, 3000, 3001, 3100, 3101)] == [
        0, 50 + 900 + 500, 100 + 900 + 500, 101 + 500, 1500 + 500, 1501, 3000, 3001 + 5900, 3100 + 5900, 3101]
    pieces = steps.pieces()
    assert [(p.after_ms, p.until_ms) for p in pieces] == [(None, 0), (0, 100), (100, 1500), (1500, 3000),
                                                           (3000, 3100), (3100, None)]
    for piece in pieces:  # every stamp of a piece moves by the piece's shift
        for stamp in {piece.after_ms + 1 if piece.after_ms is not None else -5, piece.until_ms or 10**6}:
            assert steps.real_ms(stamp) - stamp == piece.shift_ms, (piece, stamp)


def test_pieces_of_the_stamp_axis() -> None:
    far = -1_000_000  # the boot began long before: every stamp from there on was made in it
    steps = ClockSteps([ClockStep(2000, 5000, since_ms=far), ClockStep(100, 1000, since_ms=far)])  # set twice
    assert steps.pieces() == [Piece(None, far, 0), Piece(far, 100, 3900), Piece(100, 2000, 3000), Piece(2000, None, 0)]
    assert [steps.real_ms(stamp) for stamp in (50, 100, 101, 2000, 2001)] == [3950, 4000, 3101, 5000, 2001]
    assert steps.older_than(3100) == [Piece(None, far, 0), Piece(far, -800, 3900), Piece(2000, 3100, 0)]
    assert steps.older_than(4200) == [Piece(None, far, 0), Piece(far, 100, 3900), Piece(100, 1200, 3000),
                                      Piece(2000, 4200, 0)]
    assert steps.older_than(4200, judged_ms=4000) == [Piece(1000, 1200, 3000), Piece(4000, 4200, 0)]
    assert ClockSteps().older_than(7) == [Piece(None, 7, 0)]
