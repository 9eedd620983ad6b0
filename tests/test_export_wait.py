"""An export waits for footage still being written, only while it is, and never long (`wait_for_recording`), with a
recording state the test sets."""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from api.routes_cases import export_json
from nvr.evidence.export import ExportCancelled, wait_for_recording
from nvr.evidence.jobs import ExportJobs
from storage.cases import Case, CaseItem
from storage.clock import now_ms
from tests.conftest import wait_for


class Recording:
    """Which cameras still have footage being written, and how often the export asked."""

    def __init__(self, writing: set[str]) -> None:
        self.writing = writing
        self.asked: list[tuple[str, int]] = []

    def __call__(self, camera: str, until_ms: int) -> bool:
        self.asked.append((camera, until_ms))
        return camera in self.writing


def wait(recording: Recording, items: list[CaseItem], cancelled: Callable[[], bool] = lambda: False,
         segment_ms: int = 60_000) -> None:
    wait_for_recording(items, recording, segment_ms, cancelled)


def item(camera: str, end_ms: int) -> CaseItem:
    return CaseItem(1, camera, end_ms - 10_000, end_ms, "", None, None, 0, None)


def build(_case: Case, _by: str, out: Path, _progress: Callable[[float], None], _cancelled: Callable[[], bool]) -> None:
    """An export's build that writes a ZIP of three bytes at once."""
    out.write_bytes(b"zip")


def served_by_a_later_run(folder: Path, case: Case) -> bool:
    """Does a later run of the station (new jobs on the same exports `folder`) serve the ZIP there as the case's?"""
    later_run: ExportJobs[Case] = ExportJobs(folder, build, lambda _job: None)
    try:
        found = later_run.current(case)
        return found is not None and found.state == "ready"
    finally:
        later_run.stop()


def in_thread(call: Callable[[], None]) -> threading.Event:
    """`call` run in a thread of its own; the event is set once it returned."""
    done = threading.Event()

    def run() -> None:
        call()
        done.set()

    threading.Thread(target=run, daemon=True).start()
    return done


@pytest.fixture(autouse=True)
def quick_polls(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("nvr.evidence.export.RECORDING_POLL_SECONDS", 0.01)


def test_a_camera_not_recording_is_not_waited_for() -> None:
    recording = Recording(set())
    wait(recording, [item("hem-4", now_ms()), item("nga-tu", now_ms())])
    assert [camera for camera, _ in recording.asked] == ["hem-4", "nga-tu"], "asked once each, then done"


def test_the_wait_ends_when_the_segment_is_in_the_catalog() -> None:
    recording = Recording({"hem-4"})
    end_ms = now_ms()
    done = in_thread(lambda: wait(recording, [item("hem-4", end_ms)]))
    wait_for(lambda: len(recording.asked) >= 3, 5, "the export asking while the segment is written")
    assert not done.is_set()
    recording.writing.clear()  # the segment closed and was indexed
    wait_for(done.is_set, 5, "the wait to end")
    assert all(until == end_ms for _, until in recording.asked)


def test_a_future_end_or_a_stalled_camera_is_waited_for_a_segment_at_most(monkeypatch: pytest.MonkeyPatch) -> None:
    """The only export worker is not held for the hour the officer asked for beyond now."""
    monkeypatch.setattr("nvr.evidence.export.RECORDING_MARGIN_MS", 0)
    recording = Recording({"hem-4"})
    done = in_thread(lambda: wait(recording, [item("hem-4", now_ms() + 3_600_000)], segment_ms=300))
    wait_for(done.is_set, 5, "the wait to give up after a segment's length")
    assert len(recording.asked) > 1


def test_a_cancel_ends_the_wait_and_the_export() -> None:
    recording = Recording({"hem-4"})
    cancelled = threading.Event()
    outcome: list[BaseException] = []

    def export() -> None:
        try:
            wait(recording, [item("hem-4", now_ms())], cancelled.is_set)
        except ExportCancelled as exc:
            outcome.append(exc)

    waiting = threading.Thread(target=export)
    waiting.start()
    wait_for(lambda: len(recording.asked) >= 2, 5, "the export waiting")
    cancelled.set()
    waiting.join(5)
    assert not waiting.is_alive() and len(outcome) == 1


def test_an_export_says_it_waits_for_the_recording_then_builds(tmp_path: Path) -> None:
    """The job is `running` and `waiting` (the station screen says what it waits for, not "0 %") while the station
    waits for the footage, then builds."""
    recorded = threading.Event()

    def wait_for_the_recording(_case: Case, _cancelled: Callable[[], bool]) -> None:
        recorded.wait(10)

    jobs: ExportJobs[Case] = ExportJobs(tmp_path / "exports", build, lambda _job: None, wait_for_the_recording)
    case = Case(7, "Vừa xảy ra", "", "open", 0, "duty", 0, ())
    job = jobs.start(case, "duty")
    try:
        wait_for(lambda: job.waiting, 5, "the job to wait for the recording")
        shown = export_json(job, case.id, ZoneInfo("Asia/Ho_Chi_Minh"))
        assert (shown["state"], shown["waiting"], shown["progress"]) == ("running", True, 0.0)
        recorded.set()
        wait_for(lambda: job.state == "ready", 5, "the export built")
        assert export_json(job, case.id, ZoneInfo("Asia/Ho_Chi_Minh"))["waiting"] is False
    finally:
        recorded.set()
        jobs.stop()


def test_an_export_built_before_an_item_ends_is_built_again_once_it_has_ended(tmp_path: Path) -> None:
    """An item typed to end in the future (or a bookmark's minute just made): the export holds what existed when it
    was built; once the end has passed it is no longer served as the case's export, in this run or a later one,
    and the one built after the end is."""

    end_ms = now_ms() + 1_500
    case = Case(8, "Đang diễn ra", "", "open", 0, "duty", 0, (item("cam0", end_ms),))
    folder = tmp_path / "exports"
    jobs: ExportJobs[Case] = ExportJobs(folder, build, lambda _job: None)
    try:
        early = jobs.start(case, "duty")
        wait_for(lambda: early.state == "ready", 5, "the export built before the item's end")
        assert jobs.current(case) is early, "served while the item's end has not come"
        wait_for(lambda: now_ms() > end_ms, 5, "the item's end to pass")
        assert jobs.current(case) is None, "built before the end: built again"
        assert not served_by_a_later_run(folder, case), "a later run reads when the footage was read from the file"
        again = jobs.start(case, "duty")
        wait_for(lambda: again.state == "ready", 5, "the export built after the item's end")
        assert jobs.current(case) is again
        assert served_by_a_later_run(folder, case)
    finally:
        jobs.stop()


def test_an_export_that_waited_past_the_items_end_is_kept_once_the_end_has_passed(tmp_path: Path) -> None:
    """Asked just after an incident, the export waits for the recording (its `prepare`) and reads the footage after
    the item's end: it holds all there is, and is still the case's export once the end has passed, in this run and a
    later one (the file's time is when the footage was read)."""
    end_ms = now_ms() + 1_000
    case = Case(9, "Vừa xảy ra", "", "open", 0, "duty", 0, (item("cam0", end_ms),))

    def wait_for_the_end(_case: Case, _cancelled: Callable[[], bool]) -> None:
        wait_for(lambda: now_ms() > end_ms, 5, "the item's end to pass")

    folder = tmp_path / "exports"
    jobs: ExportJobs[Case] = ExportJobs(folder, build, lambda _job: None, wait_for_the_end)
    try:
        job = jobs.start(case, "duty")
        wait_for(lambda: job.state == "ready", 10, "the export built after the item's end")
        assert job.started_ms < end_ms < (job.read_ms or 0)
        assert jobs.current(case) is job, "read after the end: kept"
        assert served_by_a_later_run(folder, case)
    finally:
        jobs.stop()
