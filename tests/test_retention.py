"""Retention deletes oldest first, by age and by quota, and never what is being served."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy.exc import OperationalError, SQLAlchemyError

from storage.disk_space import DiskUsage
from storage.index import RecordingIndex, Segment
from storage.leases import SegmentLeases
from storage.retention import BATCH, Retention, RetentionPolicy
from tests.support.postgres import PostgresServer

MINUTE = 60_000
NOW = 10_000 * MINUTE


@pytest.fixture
def index(database_url: str) -> Iterator[RecordingIndex]:
    created = RecordingIndex(database_url, "post")
    yield created
    created.close()


def fill(index: RecordingIndex, root: Path, starts_min: list[int], size: int = 1000, camera: str = "a") -> None:
    for start in starts_min:
        relpath = f"{camera}/day/{start * MINUTE}.mp4"
        (root / relpath).parent.mkdir(parents=True, exist_ok=True)
        (root / relpath).write_bytes(b"x" * size)
        index.add_segment(Segment(camera, relpath, start * MINUTE, (start + 1) * MINUTE, size))


def remaining(index: RecordingIndex) -> list[int]:
    return sorted(s.start_ms // MINUTE for s in index.all_segments())


def test_age_limit_deletes_only_what_is_too_old(index: RecordingIndex, tmp_path: Path) -> None:
    fill(index, tmp_path, [9000, 9500, 9900, 9990])
    policy = RetentionPolicy(max_age_ms=200 * MINUTE, max_bytes=None, min_free_bytes=0)
    deleted = Retention(index, tmp_path, policy, SegmentLeases(), free_bytes=lambda: 10**12).enforce(NOW)
    assert [s.start_ms // MINUTE for s in deleted] == [9000, 9500]
    assert remaining(index) == [9900, 9990]
    assert not (tmp_path / f"a/day/{9000 * MINUTE}.mp4").exists()
    assert (tmp_path / f"a/day/{9900 * MINUTE}.mp4").exists()


def test_byte_quota_deletes_oldest_first_across_cameras(index: RecordingIndex, tmp_path: Path) -> None:
    fill(index, tmp_path, [9990, 9992, 9994], camera="a")
    fill(index, tmp_path, [9991, 9993, 9995], camera="b")
    policy = RetentionPolicy(max_age_ms=10**12, max_bytes=3500, min_free_bytes=0)
    deleted = Retention(index, tmp_path, policy, SegmentLeases(), free_bytes=lambda: 10**12).enforce(NOW)
    assert [(s.camera, s.start_ms // MINUTE) for s in deleted] == [("a", 9990), ("b", 9991), ("a", 9992)]
    assert index.total_bytes() == 3000


def test_free_space_floor_deletes_until_enough_is_free(index: RecordingIndex, tmp_path: Path) -> None:
    fill(index, tmp_path, [9990, 9991, 9992, 9993])

    def disk_free() -> int:  # a 4500-byte disk holding our files and nothing else
        return 4500 - sum(p.stat().st_size for p in tmp_path.rglob("*.mp4"))

    policy = RetentionPolicy(max_age_ms=10**12, max_bytes=None, min_free_bytes=2400)
    deleted = Retention(index, tmp_path, policy, SegmentLeases(), free_bytes=disk_free).enforce(NOW)
    assert [s.start_ms // MINUTE for s in deleted] == [9990, 9991]
    assert disk_free() >= 2400 and remaining(index) == [9992, 9993]


def test_segments_being_served_are_kept_until_released(index: RecordingIndex, tmp_path: Path) -> None:
    fill(index, tmp_path, [9000, 9001, 9002])
    leases = SegmentLeases()
    policy = RetentionPolicy(max_age_ms=MINUTE, max_bytes=None, min_free_bytes=0)
    retention = Retention(index, tmp_path, policy, leases, free_bytes=lambda: 10**12)
    with leases.hold([f"a/day/{9001 * MINUTE}.mp4"]):
        assert [s.start_ms // MINUTE for s in retention.enforce(NOW)] == [9000, 9002]
        assert remaining(index) == [9001]
    assert [s.start_ms // MINUTE for s in retention.enforce(NOW)] == [9001]
    assert not list(tmp_path.rglob("*.mp4"))


def test_footage_around_events_outlives_continuous_footage(index: RecordingIndex, tmp_path: Path) -> None:
    from storage.events import EventStore

    fill(index, tmp_path, [9000, 9001, 9002, 9003, 9004])
    events = EventStore(index)
    theft = events.open("a", "motion", 9002 * MINUTE + 30_000, 0.9, [])
    events.update(theft.id, end_ms=9002 * MINUTE + 40_000, snapshot="theft.jpg")
    (tmp_path / "snaps").mkdir()
    (tmp_path / "snaps" / "theft.jpg").write_bytes(b"jpeg")
    policy = RetentionPolicy(max_age_ms=100 * MINUTE, max_bytes=None, min_free_bytes=0, event_age_ms=2000 * MINUTE)
    retention = Retention(index, tmp_path, policy, SegmentLeases(), free_bytes=lambda: 10**12, events=events,
                          snapshots_dir=tmp_path / "snaps")
    assert [s.start_ms // MINUTE for s in retention.enforce(NOW)] == [9000, 9001, 9003, 9004]
    assert remaining(index) == [9002] and events.get(theft.id) is not None
    later = NOW + 2000 * MINUTE
    assert [s.start_ms // MINUTE for s in retention.enforce(later)] == [9002]
    assert events.get(theft.id) is None and not (tmp_path / "snaps" / "theft.jpg").exists()


def test_footage_kept_for_events_is_read_once_not_at_every_batch_and_pass(index: RecordingIndex,
                                                                          tmp_path: Path) -> None:
    """A camera with an event every other minute keeps most of its old footage for them: a pass reads each kept
    segment once (it read them from the oldest again at every batch of 200: its time grew with their square), the
    next pass only what aged since; a segment being served and one a closed case unlocks are judged again."""
    from storage.cases import CaseStore
    from storage.events import EventStore

    minutes = list(range(8000, 9000))
    fill(index, tmp_path, minutes, size=10)
    events = EventStore(index)
    for minute in minutes[::2]:
        events.update(events.open("a", "motion", minute * MINUTE + 30_000, 0.9, []).id, end_ms=minute * MINUTE + 31_000)
    case = open_case(index, "a", 8500, 8502)  # 8501 is near no event: kept by the case alone
    read: list[int] = []
    oldest_segments = index.oldest_segments

    def counted(*args: object, **options: object) -> list[Segment]:
        found = oldest_segments(*args, **options)  # type: ignore[arg-type]
        read.append(len(found))
        return found

    index.oldest_segments = counted  # type: ignore[method-assign]
    leases = SegmentLeases()
    policy = RetentionPolicy(max_age_ms=100 * MINUTE, max_bytes=None, min_free_bytes=0, event_age_ms=5000 * MINUTE)
    retention = Retention(index, tmp_path, policy, leases, free_bytes=lambda: 10**12, events=events)
    with leases.hold([f"a/day/{8991 * MINUTE}.mp4"]):
        retention.enforce(NOW)
    assert sum(read) <= len(minutes) + BATCH, read  # each once, and a page for the quota
    assert [m for m in remaining(index) if m % 2] == [8501, 8991]  # the case's and the one being served
    read.clear()
    assert [s.start_ms // MINUTE for s in retention.enforce(NOW + MINUTE)] == [8991]  # released: judged again
    assert sum(read) <= 10 + BATCH, read  # from it on, and the quota's page
    cases = CaseStore(index)
    cases.locks_changed = retention.forget_noted_files  # as the station wires them
    read.clear()
    cases.update(case, title="renamed")  # no change to what is locked: nothing judged again
    assert retention.enforce(NOW + 2 * MINUTE) == [] and sum(read) <= 10 + BATCH, read
    cases.update(case, status="closed")
    read.clear()
    assert [s.start_ms // MINUTE for s in retention.enforce(NOW + 3 * MINUTE)] == [8501]
    assert sum(read) <= 510 + BATCH, read  # from the case's start (8500), not from the oldest (8000)


def test_a_pass_reads_only_the_events_near_the_footage_it_judges(index: RecordingIndex, tmp_path: Path) -> None:
    """Each full pass read every event of the events' keep (1.3 million at a 200-camera post: 9 s a pass). Now only
    those near the segments it judges, and one that began long before them (a camera covered for days) still keeps
    them."""
    from storage.events import EventStore
    from storage.locks import LONGEST_SEGMENT_MS
    from storage.retention import EVENT_MARGIN_MS

    fill(index, tmp_path, [9898, 9900])
    events = EventStore(index)
    covered = events.open("a", "tamper_covered", 6000 * MINUTE, 1.0, [])
    events.update(covered.id, end_ms=9900 * MINUTE + 30_000)
    asked: list[tuple[int, int]] = []
    spans = events.spans

    def counted(start_ms: int, end_ms: int) -> list[tuple[str, int, int | None]]:
        asked.append((start_ms, end_ms))
        return spans(start_ms, end_ms)

    events.spans = counted  # type: ignore[method-assign]
    policy = RetentionPolicy(max_age_ms=100 * MINUTE, max_bytes=None, min_free_bytes=0, event_age_ms=5000 * MINUTE)
    retention = Retention(index, tmp_path, policy, SegmentLeases(), free_bytes=lambda: 10**12, events=events)
    assert retention.enforce(NOW) == []  # 9898 is judged: near the covering
    asked.clear()
    assert retention.enforce(NOW + MINUTE) == []  # 9900 now: the covering began 65 hours before it
    assert remaining(index) == [9898, 9900]
    [(start, end)] = asked
    assert end - start <= LONGEST_SEGMENT_MS + 2 * EVENT_MARGIN_MS + 2 * MINUTE, (start, end)


def test_motion_grids_go_with_the_footage(index: RecordingIndex, tmp_path: Path) -> None:
    """A camera's grids older than its oldest footage kept go at the next pass; a camera with no footage
    left keeps none older than the station's oldest; newer grids, of footage still being written, stay."""
    from detect.motion_grid import MotionSecond
    from storage.motion_grids import MotionGridStore

    fill(index, tmp_path, [9000, 9500, 9900, 9990], camera="a")
    grids = MotionGridStore(index)
    cells = bytes([1] * 18)
    grids.add([MotionSecond(camera, minute * 60 + 30, cells) for camera, minute in
               (("a", 9000), ("a", 9500), ("a", 9899), ("a", 9900), ("a", 9999), ("gone", 9800), ("gone", 9950))])
    policy = RetentionPolicy(max_age_ms=200 * MINUTE, max_bytes=None, min_free_bytes=0)
    Retention(index, tmp_path, policy, SegmentLeases(), free_bytes=lambda: 10**12, grids=grids).enforce(NOW)
    assert remaining(index) == [9900, 9990]
    assert (grids.grids("a", 0, 2**62).seconds // 60).tolist() == [9900, 9999]
    assert (grids.grids("gone", 0, 2**62).seconds // 60).tolist() == [9950]


def open_case(index: RecordingIndex, camera: str, first_min: int, last_min: int) -> int:
    """An open case with one item from the middle of minute `first_min` to the middle of `last_min`."""
    from storage.cases import CaseStore, NewItem

    item = NewItem(camera, first_min * MINUTE + 30_000, last_min * MINUTE + 30_000)
    return CaseStore(index).create("Mất xe máy", "", [item], "duty").id


def test_footage_a_removed_range_or_a_deleted_case_unlocked_goes_at_the_next_pass(index: RecordingIndex,
                                                                                  tmp_path: Path) -> None:
    """Removing a range from a case, or deleting an open case, unlocked its footage, but the age pass had gone past
    it and only a case's change of status made it look again: the footage stayed until the events' keep."""
    from storage.cases import CaseStore, NewItem

    fill(index, tmp_path, [8000, 8500, 8600, 9990])
    cases = CaseStore(index)
    policy = RetentionPolicy(max_age_ms=100 * MINUTE, max_bytes=None, min_free_bytes=0, event_age_ms=5000 * MINUTE)
    retention = Retention(index, tmp_path, policy, SegmentLeases(), free_bytes=lambda: 10**12)
    cases.locks_changed = retention.forget_noted_files  # as the station wires them
    theft = cases.create("Mất xe máy", "", [NewItem("a", 8500 * MINUTE, 8500 * MINUTE + 1000),
                                            NewItem("a", 8600 * MINUTE, 8600 * MINUTE + 1000)], "duty")
    other = cases.create("Trộm xe đạp", "", [NewItem("a", 8000 * MINUTE, 8000 * MINUTE + 1000)], "duty")
    assert retention.enforce(NOW) == []
    assert cases.remove_item(theft.id, theft.items[0].id)
    assert [s.start_ms // MINUTE for s in retention.enforce(NOW + MINUTE)] == [8500]
    assert cases.delete(other.id)
    assert [s.start_ms // MINUTE for s in retention.enforce(NOW + 2 * MINUTE)] == [8000]
    assert remaining(index) == [8600, 9990]
    cases.update(theft.id, status="closed")  # and a pass that fails (the catalog away) must not lose the unlock
    walk = index.oldest_segments
    index.oldest_segments = lambda *_args, **_options: (_ for _ in ()).throw(  # type: ignore[method-assign]
        OperationalError("SELECT", {}, Exception("the catalog does not answer")))
    with pytest.raises(OperationalError):
        retention.enforce(NOW + 3 * MINUTE)
    index.oldest_segments = walk  # type: ignore[method-assign]
    assert [s.start_ms // MINUTE for s in retention.enforce(NOW + 4 * MINUTE)] == [8600]


def test_footage_of_an_open_case_outlives_the_age_limit(index: RecordingIndex, tmp_path: Path) -> None:
    from storage.cases import CaseStore

    fill(index, tmp_path, [9000, 9001, 9002, 9003, 9004], camera="a")
    fill(index, tmp_path, [9001, 9002], camera="b")  # the same minutes of another camera are not the case's
    case = open_case(index, "a", 9001, 9002)
    policy = RetentionPolicy(max_age_ms=100 * MINUTE, max_bytes=None, min_free_bytes=0)
    retention = Retention(index, tmp_path, policy, SegmentLeases(), free_bytes=lambda: 10**12)
    deleted = retention.enforce(NOW)
    assert sorted((s.camera, s.start_ms // MINUTE) for s in deleted) == [
        ("a", 9000), ("a", 9003), ("a", 9004), ("b", 9001), ("b", 9002)]
    assert remaining(index) == [9001, 9002] and (tmp_path / f"a/day/{9001 * MINUTE}.mp4").exists()
    assert index.total_bytes(locked=True) == 2000
    CaseStore(index).update(case, status="closed")  # closing the case unlocks its footage
    assert [s.start_ms // MINUTE for s in retention.enforce(NOW)] == [9001, 9002]
    assert remaining(index) == []


def test_footage_of_an_open_case_outlives_the_disk_quota(index: RecordingIndex, tmp_path: Path) -> None:
    fill(index, tmp_path, [9990, 9991, 9992, 9993, 9994])
    open_case(index, "a", 9990, 9991)
    policy = RetentionPolicy(max_age_ms=10**12, max_bytes=2500, min_free_bytes=0)
    retention = Retention(index, tmp_path, policy, SegmentLeases(), free_bytes=lambda: 10**12)
    # 3000 bytes unlocked against a quota of 2500: the oldest of them goes
    assert [s.start_ms // MINUTE for s in retention.make_room()] == [9992]
    assert remaining(index) == [9990, 9991, 9993, 9994], "the quota takes the oldest footage that is not locked"
    assert retention.make_room() == [] and remaining(index) == [9990, 9991, 9993, 9994]


def test_a_disk_full_of_locked_footage_is_said_once(index: RecordingIndex, tmp_path: Path,
                                                     caplog: pytest.LogCaptureFixture) -> None:
    fill(index, tmp_path, [9990, 9991, 9992])
    open_case(index, "a", 9989, 9992)
    policy = RetentionPolicy(max_age_ms=10**12, max_bytes=None, min_free_bytes=10_000)
    retention = Retention(index, tmp_path, policy, SegmentLeases(), free_bytes=lambda: 500)
    with caplog.at_level("WARNING", logger="storage.retention"):
        assert retention.make_room() == [] and retention.make_room() == []
    assert remaining(index) == [9990, 9991, 9992]
    assert retention.shortage is not None and "3000 bytes of footage are locked by open cases" in retention.shortage
    assert [r.getMessage() for r in caplog.records] == [retention.shortage], "said once, not at every pass"


def test_a_floor_no_deletion_can_reach_keeps_the_newest_recordings_and_names_the_other_files(
        index: RecordingIndex, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Another program's files take the disk: chasing the floor deleted every recording, then each new one as it
    closed, while the station said nothing was wrong but open cases. Now the floor falls back to the reserve's room
    and as much again (above which the cameras record), and the shortage names the other files."""
    from storage.reserve import SpaceReserve

    starts = list(range(9990, 9998))
    fill(index, tmp_path, starts)  # 8 recordings of 1000 bytes
    reserve = SpaceReserve(tmp_path / "space-reserve", 1500)
    assert reserve.allocate()

    def free() -> int:  # 500 bytes, and what deleting recordings gave back
        return 500 + 1000 * (len(starts) - len(remaining(index)))

    others = {"bytes": 60_000}  # on a disk of 100,000 bytes: what other files than the recordings take

    def usage(_path: Path) -> DiskUsage:
        used = others["bytes"] + index.total_bytes() + 1500 * reserve.held
        return DiskUsage(100_000, free(), used, free())

    monkeypatch.setattr("storage.disk_space.disk_usage", usage)
    policy = RetentionPolicy(max_age_ms=10**12, max_bytes=None, min_free_bytes=100_000)
    retention = Retention(index, tmp_path, policy, SegmentLeases(), reserve=reserve, free_bytes=free)
    monkeypatch.setattr("storage.retention.LEAST_FREE_BYTES", 2000)  # the disk is bytes here, not gigabytes
    assert [s.start_ms // MINUTE for s in retention.make_room()] == [9990, 9991, 9992], "down to 2 x 1500 free"
    assert remaining(index) == starts[3:], "the newest kept"
    assert retention.make_room() == [], "and no further at the next pass"
    monkeypatch.setattr("storage.retention.LEAST_FREE_BYTES", 4000)  # without a reserve: at least this much
    reserve.release()
    retention = Retention(index, tmp_path, policy, SegmentLeases(), reserve=None, free_bytes=free)
    assert [s.start_ms // MINUTE for s in retention.make_room()] == [9993], "up to 4000 free, no more"
    assert retention.shortage is not None and "other files than the recordings take 60000 bytes" in retention.shortage
    assert "locked by open cases" not in retention.shortage, "no case blamed: none is open"
    others["bytes"] = 3000  # under 5 % of the disk: not named
    retention = Retention(index, tmp_path, policy, SegmentLeases(), reserve=None, free_bytes=free)
    retention.make_room()
    assert retention.shortage is not None and "other files" not in retention.shortage


def test_a_fallback_floor_out_of_reach_too_keeps_the_newest_recordings(index: RecordingIndex, tmp_path: Path) -> None:
    """On a small disk (or a floor set low) the fallback was no lower than the floor itself: with other files taking
    the disk, retention chased it through every recording and then each new one as it closed. Now it asks for at most
    half of what can be reached, and for nothing when the cameras could not record in that half."""
    from storage.reserve import SpaceReserve

    reserve = SpaceReserve(tmp_path / "space-reserve", 1500)
    assert reserve.allocate()
    free = {"bytes": 500}
    policy = RetentionPolicy(max_age_ms=10**12, max_bytes=None, min_free_bytes=10_000)

    def make_room() -> list[int]:
        retention = Retention(index, tmp_path, policy, SegmentLeases(), reserve=reserve,
                              free_bytes=lambda: free["bytes"])
        return [s.start_ms // MINUTE for s in retention.make_room()]

    fill(index, tmp_path, [9990, 9991, 9992])  # 500 free and 3000 of footage: 3500 within reach, under the 10,000
    assert make_room() == [9990, 9991], "half of what is within reach made free, no more"
    assert remaining(index) == [9992], "the newest kept"
    fill(index, tmp_path, [9993, 9994, 9995])
    free["bytes"] = 0  # 4000 within reach
    assert make_room() == [9992, 9993] and remaining(index) == [9994, 9995]
    free["bytes"] = 900  # 2900: the cameras could not record in its half (under the reserve's 1500)
    assert make_room() == [] and remaining(index) == [9994, 9995], "nothing deleted for nothing"


def test_while_the_catalog_is_away_the_oldest_unlocked_files_make_room(tmp_path: Path) -> None:
    """A post's link to the district's PostgreSQL is down and its disk fills: the oldest files that were
    unlocked at the last full pass go, file first, never a case's (a case made since that pass makes the
    next outage wait for a new one); their rows go once the catalog is back."""
    from storage.cases import CaseStore, NewItem

    with PostgresServer() as server:
        index = RecordingIndex(server.url(), "post")
        fill(index, tmp_path, list(range(9990, 9998)))  # 8 files of 1000 bytes
        open_case(index, "a", 9990, 9990)  # the oldest minute is evidence

        def disk_free() -> int:  # a 12,000-byte disk holding our files and nothing else
            return 12_000 - sum(p.stat().st_size for p in tmp_path.rglob("*.mp4"))

        def on_disk() -> list[int]:
            return sorted(int(p.stem) // MINUTE for p in tmp_path.rglob("*.mp4"))

        policy = RetentionPolicy(max_age_ms=10**12, max_bytes=None, min_free_bytes=2500)
        retention = Retention(index, tmp_path, policy, SegmentLeases(), free_bytes=disk_free)
        cases = CaseStore(index)
        cases.locks_changed = retention.forget_noted_files  # as the station wires them
        assert retention.enforce(NOW) == []  # room enough: nothing goes, the oldest files are noted
        cases.create("Trộm xe đạp", "", [NewItem("a", 9991 * MINUTE, 9991 * MINUTE + 30_000)], "duty")
        for start in (9998, 9999, 10_000):  # recorded meanwhile, their rows in the recorders' journals
            (tmp_path / f"a/day/{start * MINUTE}.mp4").write_bytes(b"x" * 1000)
        server.pause()
        try:
            with pytest.raises(SQLAlchemyError):
                retention.make_room()
            assert on_disk() == list(range(9990, 10_001)), "a case changed since the note: nothing goes"
        finally:
            server.resume()
        assert [s.start_ms // MINUTE for s in retention.enforce(NOW)] == [9992, 9993]  # back: rows first, and noted
        for start in (10_001, 10_002):
            (tmp_path / f"a/day/{start * MINUTE}.mp4").write_bytes(b"x" * 1000)
        server.pause()
        try:
            with pytest.raises(SQLAlchemyError):
                retention.make_room()
            assert disk_free() >= 2500
            assert on_disk() == [9990, 9991, *range(9996, 10_003)], "the oldest unlocked files went; the cases' stay"
        finally:
            server.resume()
        retention.make_room()
        assert remaining(index) == [9990, 9991, 9996, 9997], "the evicted files' rows dropped once it is back"
        index.close()


def test_a_case_made_while_a_pass_deletes_keeps_its_footage(index: RecordingIndex, tmp_path: Path) -> None:
    """The officer makes a case of footage about to reach the age limit while retention is deleting the batch it
    read: the case's segments stay (the pass read them as unlocked)."""
    fill(index, tmp_path, list(range(9000, 9010)))
    made: list[object] = []
    delete_row = index.delete_segment

    def a_case_is_made_during_the_pass(segment_id: int, **options: bool) -> bool:
        if not made:
            made.append(open_case(index, "a", 9006, 9007))
        return delete_row(segment_id, **options)

    index.delete_segment = a_case_is_made_during_the_pass  # type: ignore[method-assign]
    policy = RetentionPolicy(max_age_ms=100 * MINUTE, max_bytes=None, min_free_bytes=0)
    deleted = Retention(index, tmp_path, policy, SegmentLeases(), free_bytes=lambda: 10**12).enforce(NOW)
    assert made and sorted(s.start_ms // MINUTE for s in deleted) == [9000, 9001, 9002, 9003, 9004, 9005, 9008, 9009]
    assert remaining(index) == [9006, 9007] and (tmp_path / f"a/day/{9006 * MINUTE}.mp4").exists()


def test_the_byte_quota_counts_only_footage_it_may_delete(index: RecordingIndex, tmp_path: Path) -> None:
    """Open cases holding more than `max_bytes` leave the quota for the rest: before, every pass deleted all
    other footage, with plenty of disk and nothing said."""
    fill(index, tmp_path, [9980, 9981, 9982, 9990, 9991, 9992, 9993])
    open_case(index, "a", 9980, 9983)  # 3000 bytes locked, over the quota
    policy = RetentionPolicy(max_age_ms=10**12, max_bytes=2500, min_free_bytes=0)
    retention = Retention(index, tmp_path, policy, SegmentLeases(), free_bytes=lambda: 10**12)
    assert [s.start_ms // MINUTE for s in retention.make_room()] == [9990, 9991]
    assert remaining(index) == [9980, 9981, 9982, 9992, 9993]


def test_a_case_committed_while_a_deletion_runs_keeps_its_footage_on_postgresql(postgres: PostgresServer,
                                                                                tmp_path: Path) -> None:
    """On PostgreSQL a deletion's statement sees the cases committed when it began: a case being made while it ran
    lost the segment it locks. What locks footage and what deletes it now take turns (storage/locks.py): the
    deletion waits for the case's transaction, then sees the case, and keeps the segment."""
    import threading

    from sqlalchemy import text

    from storage.cases import CaseStore, NewItem
    from storage.locks import case_change_turn
    from storage.models import CaseItemRow, CaseRow
    from tests.conftest import wait_for

    name = "race"
    postgres.create_database(name)
    index = RecordingIndex(postgres.url(name), "post")
    try:
        fill(index, tmp_path, [9000])
        [segment] = index.all_segments()
        segment_id = segment.id
        assert segment_id is not None
        CaseStore(index).create("other", "", [], "duty")  # the case's tables in use
        deleted: list[bool] = []
        with index.session() as session, session.begin():  # a case being made, stopped before its commit
            case_change_turn(session)
            case = CaseRow(station="post", title="Mất xe", note="", status="open", created_ms=0, created_by="duty",
                           updated_ms=0)
            session.add(case)
            session.flush()
            item = NewItem("a", 9000 * MINUTE, 9001 * MINUTE)
            session.add(CaseItemRow(case_id=case.id, camera_id=index.camera_id("a"), start_ms=item.start_ms,
                                    end_ms=item.end_ms, note="", added_ms=0, added_by="duty"))
            session.flush()
            deletion = threading.Thread(target=lambda: deleted.append(index.delete_segment(segment_id,
                                                                                           unless_locked=True)))
            deletion.start()

            def waiting_on_its_turn() -> bool:
                with index.engine.connect() as watcher:
                    return bool(watcher.execute(text("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' "
                                                     "AND NOT granted")).scalar())

            wait_for(lambda: bool(deleted) or waiting_on_its_turn(), 10, "the deletion under way")
        deletion.join(10)
        assert deleted == [False] and [s.id for s in index.all_segments()] == [segment_id]
    finally:
        index.close()


def test_the_storage_figures_count_each_locked_segment_once_and_only_open_cases(index: RecordingIndex,
                                                                              tmp_path: Path) -> None:
    """The locked bytes go from the open cases' items to the segments they overlap (not a lock test of every row):
    the same figure as retention's own condition, a segment two items share counted once."""
    from storage.cases import CaseStore
    from storage.clock_steps import ClockSteps
    from storage.reserve import SpaceReserve
    from storage.usage import storage_usage

    fill(index, tmp_path, list(range(9990, 9998)))
    fill(index, tmp_path, list(range(9990, 9994)), camera="b", size=500)
    open_case(index, "a", 9990, 9992)  # minutes 9990-9992 of a
    open_case(index, "a", 9992, 9993)  # 9992 again, and 9993
    open_case(index, "b", 9991, 9991)  # within minute 9991 of b
    closed = open_case(index, "b", 9993, 9993)
    CaseStore(index).update(closed, status="closed")
    usage = storage_usage(index, tmp_path, SpaceReserve(tmp_path / "reserve", 0), ["a", "b"], ClockSteps())
    assert {c.camera: c.locked_bytes for c in usage.cameras} == {"a": 4000, "b": 500}
    assert usage.locked_bytes == index.total_bytes(locked=True) == 4500


def test_the_free_floor_stays_above_where_the_cameras_stop(index: RecordingIndex, tmp_path: Path) -> None:
    """The cameras stop below the reserve's size of free space (storage/disk_room.py); with min_free_bytes under it
    (0 here) retention saw nothing to do, and they stayed stopped. The floor is at least twice the reserve."""
    from storage.reserve import SpaceReserve

    starts = list(range(9990, 9996))
    fill(index, tmp_path, starts)
    reserve = SpaceReserve(tmp_path / "space-reserve", 1500)
    assert reserve.allocate()

    def free() -> int:  # just over the reserve's size: the cameras record, but are about to stop
        return 1600 + 1000 * (len(starts) - len(remaining(index)))

    policy = RetentionPolicy(max_age_ms=10**12, max_bytes=None, min_free_bytes=0)
    retention = Retention(index, tmp_path, policy, SegmentLeases(), reserve=reserve, free_bytes=free)
    assert retention.needs_room()
    assert [s.start_ms // MINUTE for s in retention.make_room()] == [9990, 9991], "up to 2 x 1500 free"
    assert not retention.needs_room()
