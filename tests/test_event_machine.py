"""The event state machine: minimum durations, gap merging, long events cut, pre/post roll, video loss."""

from __future__ import annotations

from detect.events import EventMachine, EventPolicy, EventUpdate
from detect.observation import Observation

BOX = (0.1, 0.2, 0.1, 0.2)
POLICY = EventPolicy(motion_gap_seconds=3.0, motion_max_seconds=20.0, tamper_min_seconds=1.0,
                     pre_roll_seconds=5.0, post_roll_seconds=4.0)


def run(frames: list[Observation]) -> list[EventUpdate]:
    machine = EventMachine(POLICY)
    updates = machine.feed(frames)
    return updates + machine.close_all(frames[-1].t + 100)


def moving(t: float, score: float = 0.5) -> Observation:
    return Observation("cam", t, score=score, boxes=(BOX,))


def still(t: float) -> Observation:
    return Observation("cam", t)


def ended(updates: list[EventUpdate], type_: str) -> list[tuple[float, float | None]]:
    return [(u.event.start, u.event.end) for u in updates if u.kind == "ended" and u.event.type == type_]


def test_short_pauses_merge_and_long_ones_split_with_pre_and_post_roll() -> None:
    frames = [moving(t / 10) if 10 <= t < 30 or 45 <= t < 60 or 110 <= t < 120 else still(t / 10)
              for t in range(200)]
    updates = run(frames)
    assert ended(updates, "motion") == [(1.0, 5.9), (11.0, 11.9)]  # 2.9 -> 4.5: a 1.6 s pause, one event
    first = next(u.event for u in updates if u.kind == "ended")
    assert first.clip_start == -4.0 and first.clip_end == 9.9


def test_a_peak_is_reported_and_kept_as_the_best_frame() -> None:
    frames = [moving(t / 10, score=0.3 + 0.05 * min(t, 10)) for t in range(20)] + [still(10.0)]
    updates = run(frames)
    started = next(u for u in updates if u.kind == "started")
    last = [u for u in updates if u.event.type == "motion"][-1]
    assert started.event.start == 0.0 and last.kind == "ended"
    assert last.event.score == 0.8 and last.event.best_t == 1.0


def test_motion_longer_than_the_maximum_is_cut() -> None:
    updates = run([moving(t / 2) for t in range(100)])  # 50 s of motion
    spans = ended(updates, "motion")
    assert len(spans) == 3 and all(end is not None and end - start <= 20.0 for start, end in spans)


def test_tamper_must_last_its_minimum() -> None:
    blips = [Observation("cam", t / 10, covered=t % 40 < 5) for t in range(200)]  # 0.5 s on, 3.5 s off
    assert ended(run(blips), "tamper_covered") == []
    held = [Observation("cam", t / 10, covered=20 <= t < 60) for t in range(200)]
    assert ended(run(held), "tamper_covered") == [(2.0, 5.9)]


def test_video_loss_starts_at_the_last_frame_and_ends_at_the_next() -> None:
    machine = EventMachine(POLICY)
    updates = machine.feed([moving(1.0), Observation("cam", 1.0, video_loss=True),
                            Observation("cam", 1.0, video_loss=True), still(9.0)])
    assert ended(updates, "video_loss") == [(1.0, 9.0)]
    assert ended(updates, "motion") == [(1.0, 1.0)]  # what was going on ends with the picture
    assert sum(u.kind == "started" and u.event.type == "video_loss" for u in updates) == 1


def test_mode_switches_are_instants() -> None:
    updates = run([still(0.0), Observation("cam", 4.0, is_ir=True, mode_changed=True), still(5.0)])
    assert ended(updates, "night_mode") == [(4.0, 4.0)]


def test_the_station_clock_stepping_back_ends_an_event_and_lets_the_next_one_start() -> None:
    """NTP sets right a clock that ran 2.8 h ahead: the open event ends at its last motion, and motion after the step
    is an event of its own (before, the first waited for the clock to come back and the second never opened)."""
    machine = EventMachine(POLICY)
    updates = machine.feed([moving(10_000 + t / 10) for t in range(20)])
    updates += machine.feed([still(100 + t / 10) for t in range(10)])
    assert ended(updates, "motion") == [(10_000.0, 10_001.9)]
    updates = machine.feed([moving(102 + t / 10) for t in range(10)])
    assert [(u.kind, u.event.start) for u in updates] == [("started", 102.0)]


def test_a_time_a_moment_earlier_changes_nothing() -> None:
    frames = [moving(t / 10) for t in range(20)] + [moving(1.85)] + [moving(2.0 + t / 10) for t in range(10)]
    assert ended(run(frames), "motion") == [(0.0, 2.9)]
