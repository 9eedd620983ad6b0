"""Detection hands its results to the event writer and goes on: a database that takes its time delays
the rows, never the next tick."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time
from collections.abc import Collection, Iterable
from dataclasses import replace
from pathlib import Path

import pytest
from sqlalchemy.exc import OperationalError

from detect.events import Event as DetectedEvent
from detect.events import EventUpdate
from detect.observation import Box
from nvr.event_bus import EventBus
from nvr.event_waiting import OPENED, WAITING_FILE, EventIds, WaitingFile
from nvr.event_writer import EventWriter
from storage.events import Event, EventStore
from storage.index import RecordingIndex
from tests.conftest import wait_for
from tests.support.postgres import PostgresServer


class SlowEvents(EventStore):
    """The real store on SQLite, behind a database that answers only when the test lets it."""

    def __init__(self, index: RecordingIndex, gate: threading.Event) -> None:
        super().__init__(index)
        self._gate = gate

    def open(self, camera: str, type_: str, start_ms: int, score: float, boxes: Collection[Box]) -> Event:
        self._gate.wait(10)
        return super().open(camera, type_, start_ms, score, boxes)


def test_a_slow_database_never_holds_up_detection(tmp_path: Path) -> None:
    gate = threading.Event()
    index = RecordingIndex(f"sqlite:///{tmp_path / 'index.db'}", "post")
    writer = EventWriter(SlowEvents(index, gate), EventBus().publish, tmp_path / "snapshots", lambda _camera: b"jpeg")
    writer.start()
    motion = DetectedEvent("hem-4", "motion", 100.0, None, 0.8, (), 101.0, 95.0, None)
    started = time.monotonic()
    writer.put([EventUpdate("started", motion)])
    writer.put([EventUpdate("ended", DetectedEvent("hem-4", "motion", 100.0, 104.0, 0.8, (), 101.0, 95.0, 109.0))])
    assert time.monotonic() - started < 0.1, "handing over never waits for the database"
    assert EventStore(index).query(cameras=["hem-4"], types=None, start_ms=0, end_ms=2**62, limit=10) == []
    gate.set()
    writer.stop()
    stored = EventStore(index).query(cameras=["hem-4"], types=None, start_ms=0, end_ms=2**62, limit=10)
    assert [(e.start_ms, e.end_ms, e.snapshot) for e in stored] == [(100_000, 104_000, f"{stored[0].id}.jpg")]
    assert (tmp_path / "snapshots" / f"{stored[0].id}.jpg").read_bytes() == b"jpeg"


def test_events_of_a_catalog_outage_are_stored_when_it_returns(tmp_path: Path,
                                                               caplog: pytest.LogCaptureFixture) -> None:
    """A post's link to the district's PostgreSQL is down: the events detected meanwhile are kept and stored
    once it answers again, each once, and handed on then."""
    published: list[Event] = []
    with PostgresServer() as server:
        index = RecordingIndex(server.url(), "post")
        writer = EventWriter(EventStore(index), published.append, tmp_path / "snapshots", lambda _camera: b"jpeg")
        writer.start()
        server.pause()
        try:
            first = DetectedEvent("hem-4", "motion", 100.0, None, 0.8, (), 101.0, 95.0, None)
            writer.put([EventUpdate("started", first)])
            writer.put([EventUpdate("ended", DetectedEvent("hem-4", "motion", 100.0, 104.0, 0.8, (), 101.0, 95.0,
                                                           109.0))])
            writer.put([EventUpdate("started", DetectedEvent("ngo-7", "tamper_covered", 102.0, None, 1.0, (), 102.0,
                                                             102.0, None))])
            wait_for(lambda: "the catalog does not answer" in caplog.text, 10, "the writer finds the catalog away")
            assert published == []
        finally:
            server.resume()
        wait_for(lambda: len(published) == 3, 30, "the outage's events stored and handed on")
        writer.stop()
        stored = EventStore(index).query(cameras=["hem-4", "ngo-7"], types=None, start_ms=0, end_ms=2**62,
                                         limit=10)
        assert sorted((e.camera, e.type, e.start_ms, e.end_ms) for e in stored) == [
            ("hem-4", "motion", 100_000, 104_000), ("ngo-7", "tamper_covered", 102_000, None)]
        index.close()


def test_what_waits_for_the_catalog_at_a_stop_is_stored_at_the_next_start(tmp_path: Path,
                                                                          caplog: pytest.LogCaptureFixture) -> None:
    """The station stops (a service restart) during an outage: the updates still waiting go to the data folder's
    waiting file and the next start stores them, on the events their starts made, without a snapshot of the
    picture of that moment (it is not the event's), and ends the one the file leaves open when the file was written
    (a station's stop ends its events first; this one's detection did not)."""
    waiting = tmp_path / WAITING_FILE
    published: list[Event] = []
    pictures: list[str] = []

    def picture(camera: str) -> bytes:
        pictures.append(camera)
        return b"jpeg"

    motion = DetectedEvent("hem-4", "motion", 100.0, None, 0.8, (), 101.0, 95.0, None)
    with PostgresServer() as server:
        index = RecordingIndex(server.url(), "post")
        before = EventWriter(EventStore(index), published.append, tmp_path / "snapshots", picture, waiting)
        before.start()
        before.put([EventUpdate("started", motion)])
        wait_for(lambda: len(published) == 1, 10, "the start stored while the catalog answers")
        server.pause()
        try:
            before.put([EventUpdate("updated", replace(motion, score=0.95, boxes=((0.1, 0.2, 0.3, 0.4),)))])
            before.put([EventUpdate("ended", replace(motion, end=104.0, score=0.95, clip_end=109.0))])
            before.put([EventUpdate("started", DetectedEvent("ngo-7", "tamper_covered", 102.0, None, 1.0, (), 102.0,
                                                             102.0, None))])
            wait_for(lambda: "the catalog does not answer" in caplog.text, 10, "the writer finds the catalog away")
            before.stop()
        finally:
            server.resume()
        assert len(waiting.read_text().splitlines()) == 3 and len(published) == 1
        left_ms = round(waiting.stat().st_mtime * 1000)
        taken = len(pictures)
        after = EventWriter(EventStore(index), published.append, tmp_path / "snapshots", picture, waiting)
        after.start()
        wait_for(lambda: len(published) == 5, 30, "what waited stored and handed on, and the open one ended")
        after.stop()
        assert not waiting.exists() and len(pictures) == taken, "no picture of the wrong moment"
        stored = EventStore(index).query(cameras=["hem-4", "ngo-7"], types=None, start_ms=0, end_ms=2**62,
                                         limit=10)
        assert sorted((e.id, e.camera, e.start_ms, e.end_ms, e.score, e.snapshot) for e in stored) == [
            (published[0].id, "hem-4", 100_000, 104_000, 0.95, f"{published[0].id}.jpg"),
            (published[-1].id, "ngo-7", 102_000, left_ms, 1.0, None)]
        index.close()


def test_a_waiting_file_line_that_cannot_be_read_is_left_out(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    waiting = tmp_path / WAITING_FILE
    waiting.write_text('{"kind": "started"}\nnot json\n')
    index = RecordingIndex(f"sqlite:///{tmp_path / 'index.db'}", "post")
    published: list[Event] = []
    writer = EventWriter(EventStore(index), published.append, tmp_path / "snapshots", lambda _camera: b"jpeg", waiting)
    writer.start()
    wait_for(lambda: not waiting.exists(), 10, "the file read and done with")
    writer.stop()
    assert published == [] and "line 1: not an event update" in caplog.text and "line 2" in caplog.text
    index.close()


def test_an_end_the_catalog_missed_is_tried_again_on_its_event(tmp_path: Path,
                                                                caplog: pytest.LogCaptureFixture) -> None:
    published: list[Event] = []
    motion = DetectedEvent("hem-4", "motion", 100.0, None, 0.8, (), 101.0, 95.0, None)
    with PostgresServer() as server:
        index = RecordingIndex(server.url(), "post")
        writer = EventWriter(EventStore(index), published.append, tmp_path / "snapshots", lambda _camera: b"jpeg")
        writer.start()
        writer.put([EventUpdate("started", motion)])
        wait_for(lambda: len(published) == 1, 10, "the start stored")
        server.pause()
        try:
            writer.put([EventUpdate("ended", replace(motion, end=104.0, clip_end=109.0))])
            wait_for(lambda: "the catalog does not answer" in caplog.text, 10, "the writer finds the catalog away")
        finally:
            server.resume()
        wait_for(lambda: len(published) == 2, 30, "the end stored once the catalog is back")
        writer.stop()
        assert [e.end_ms for e in published] == [None, 104_000] and published[0].id == published[1].id
        index.close()


def test_a_stop_with_the_queue_full_during_an_outage_keeps_what_waits(tmp_path: Path,
                                                                      monkeypatch: pytest.MonkeyPatch,
                                                                      caplog: pytest.LogCaptureFixture) -> None:
    monkeypatch.setattr("nvr.event_writer.MAX_WAITING", 3)
    waiting = tmp_path / WAITING_FILE
    with PostgresServer() as server:
        index = RecordingIndex(server.url(), "post")
        writer = EventWriter(EventStore(index), EventBus().publish, tmp_path / "snapshots", lambda _camera: b"jpeg",
                             waiting)
        writer.start()
        server.pause()
        try:
            for k in range(6):
                writer.put([EventUpdate("started", DetectedEvent(f"cam{k}", "motion", 100.0 + k, None, 0.8, (),
                                                                 100.0, 95.0, None))])
                if k == 0:  # the first in hand, trying again
                    wait_for(lambda: "the catalog does not answer" in caplog.text, 10, "the writer finds it away")
            stopping = threading.Thread(target=writer.stop)
            stopping.start()
            wait_for(lambda: not stopping.is_alive(), 30, "the stop, though the queue is full")
        finally:
            server.resume()
        kept, dropped = len(waiting.read_text().splitlines()), caplog.text.count("1 event updates dropped")
        assert kept >= 4 and kept + dropped == 6, "what was not kept was dropped, and said so"
        index.close()


def test_a_waiting_file_that_cannot_be_read_at_all_is_moved_aside(tmp_path: Path) -> None:
    waiting = tmp_path / WAITING_FILE
    waiting.write_bytes(b"\xff\xfe\x00torn")
    index = RecordingIndex(f"sqlite:///{tmp_path / 'index.db'}", "post")
    writer = EventWriter(EventStore(index), EventBus().publish, tmp_path / "snapshots", lambda _camera: b"jpeg",
                         waiting)
    writer.start()
    writer.stop()
    assert not waiting.exists() and (tmp_path / f"{WAITING_FILE}.unreadable").read_bytes() == b"\xff\xfe\x00torn"
    index.close()


KILLED_STATION = """
import sys, threading
from pathlib import Path
from detect.events import Event, EventUpdate
from nvr.event_writer import EventWriter
from storage.events import EventStore
from storage.index import RecordingIndex

url, waiting, snapshots = sys.argv[1:4]
stored = threading.Event()
writer = EventWriter(EventStore(RecordingIndex(url, "post")), lambda _event: stored.set(), Path(snapshots),
                     lambda _camera: b"jpeg", Path(waiting))
writer.start()
motion = Event("hem-4", "motion", 100.0, None, 0.8, (), 101.0, 95.0, None)
writer.put([EventUpdate("started", motion)])
print("stored" if stored.wait(10) else "not stored", flush=True)
sys.stdin.readline()  # the catalog is away now
writer.put([EventUpdate("updated", Event("hem-4", "motion", 100.0, None, 0.95, ((0.1, 0.2, 0.3, 0.4),), 101.0, 95.0,
                                         None))])
writer.put([EventUpdate("ended", Event("hem-4", "motion", 100.0, 104.0, 0.95, (), 101.0, 95.0, 109.0))])
writer.put([EventUpdate("started", Event("ngo-7", "tamper_covered", 102.0, None, 1.0, (), 102.0, 102.0, None))])
threading.Event().wait()  # until killed
"""


def test_what_a_station_killed_during_an_outage_had_detected_is_stored_at_its_next_start(tmp_path: Path) -> None:
    """A power cut during an outage: the updates detection handed over meanwhile were already in the waiting file
    (within DRAIN_SECONDS), and the next start stores them on the events they belong to and ends the one left
    open (the killed station's detection can no longer end it)."""
    waiting = tmp_path / WAITING_FILE
    with PostgresServer() as server:
        station = subprocess.Popen([sys.executable, "-c", KILLED_STATION, server.url(), str(waiting),
                                    str(tmp_path / "snapshots")], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                   text=True)
        try:
            assert station.stdout is not None and station.stdin is not None
            assert station.stdout.readline().strip() == "stored"
            server.pause()
            try:
                station.stdin.write("away\n")
                station.stdin.flush()
                wait_for(lambda: waiting.exists() and len(waiting.read_text().splitlines()) == 3, 30,
                         "the outage's updates in the waiting file")
            finally:
                station.kill()  # SIGKILL: no stop, nothing flushed at the end
                station.wait(10)
                server.resume()
            left_ms = round(waiting.stat().st_mtime * 1000)  # the open one ends then: nothing will end it now
        finally:
            if station.poll() is None:
                station.kill()
        index = RecordingIndex(server.url(), "post")
        published: list[Event] = []
        after = EventWriter(EventStore(index), published.append, tmp_path / "snapshots", lambda _camera: b"jpeg",
                            waiting)
        after.start()
        wait_for(lambda: len(published) == 4, 30, "what the killed station had detected stored, the open one ended")
        after.stop()
        assert not waiting.exists()
        stored = EventStore(index).query(cameras=["hem-4", "ngo-7"], types=None, start_ms=0, end_ms=2**62, limit=10)
        assert sorted((e.camera, e.start_ms, e.end_ms, e.score) for e in stored) == [
            ("hem-4", 100_000, 104_000, 0.95), ("ngo-7", 102_000, left_ms, 1.0)], "each event once, with its end"
        index.close()


def test_a_start_stored_before_the_waiting_file_was_removed_is_not_stored_twice(tmp_path: Path) -> None:
    """Killed after the catalog took a kept start but before the file went: the file's line for it has no id, the
    line added once it was stored has; the next start stores the rest on that event and makes no second one."""
    index = RecordingIndex(f"sqlite:///{tmp_path / 'index.db'}", "post")
    event_id = EventStore(index).open("ngo-7", "tamper_covered", 102_000, 1.0, ()).id
    start = {"camera": "ngo-7", "type": "tamper_covered", "start": 102.0, "end": None, "score": 1.0, "boxes": [],
             "best_t": 102.0, "clip_start": 102.0, "clip_end": None}
    waiting = tmp_path / WAITING_FILE
    waiting.write_text("".join(json.dumps(line) + "\n" for line in (
        {"kind": "started", "id": None, **start},
        {"kind": "ended", "id": None, **start, "end": 110.0, "clip_end": 115.0},
        {"kind": OPENED, "id": event_id, "camera": "ngo-7", "type": "tamper_covered", "start": 102.0})))
    published: list[Event] = []
    writer = EventWriter(EventStore(index), published.append, tmp_path / "snapshots", lambda _camera: b"jpeg", waiting)
    writer.start()
    wait_for(lambda: not waiting.exists(), 10, "the file stored and removed")
    writer.stop()
    stored = EventStore(index).query(cameras=["ngo-7"], types=None, start_ms=0, end_ms=2**62, limit=10)
    assert [(e.id, e.end_ms) for e in stored] == [(event_id, 110_000)]
    index.close()


class AwayEvents(EventStore):
    """The real store on SQLite, behind a catalog that is away while `away` is set."""

    def __init__(self, index: RecordingIndex, away: threading.Event) -> None:
        super().__init__(index)
        self._away = away

    def open(self, camera: str, type_: str, start_ms: int, score: float, boxes: Collection[Box]) -> Event:
        if self._away.is_set():
            raise OperationalError("INSERT", {}, ConnectionError("the catalog is away"))
        return super().open(camera, type_, start_ms, score, boxes)


def test_updates_a_full_disk_kept_out_of_the_waiting_file_are_in_it_at_the_next_drain(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """An addition to the waiting file that fails (a full disk) leaves the updates in memory, and the next drain
    writes the file whole: a station killed after it still has every update."""
    index = RecordingIndex(f"sqlite:///{tmp_path / 'index.db'}", "post")
    away, waiting = threading.Event(), tmp_path / WAITING_FILE
    away.set()
    published: list[Event] = []
    writer = EventWriter(AwayEvents(index, away), published.append, tmp_path / "snapshots", lambda _camera: b"jpeg",
                         waiting)
    writer.start()
    motion = DetectedEvent("hem-4", "motion", 100.0, None, 0.8, (), 101.0, 95.0, None)
    writer.put([EventUpdate("started", motion)])
    wait_for(waiting.exists, 10, "the waiting file written as the outage begins")
    failures: list[bool] = []
    real_append = WaitingFile.append

    def append_once_failing(file: WaitingFile, updates: Iterable[EventUpdate], ids: EventIds) -> None:
        if not failures:
            failures.append(True)
            raise OSError(28, "No space left on device")
        real_append(file, updates, ids)

    monkeypatch.setattr(WaitingFile, "append", append_once_failing)
    writer.put([EventUpdate("updated", replace(motion, score=0.95))])
    wait_for(lambda: failures, 10, "an addition that fails")
    writer.put([EventUpdate("ended", replace(motion, end=104.0, score=0.95, clip_end=109.0))])
    wait_for(lambda: [json.loads(line)["kind"] for line in waiting.read_text().splitlines()]
             == ["started", "updated", "ended"], 10, "every update in the file, in order")
    away.clear()
    wait_for(lambda: not waiting.exists(), 20, "all stored and the file removed")
    writer.stop()
    stored = EventStore(index).query(cameras=["hem-4"], types=None, start_ms=0, end_ms=2**62, limit=10)
    assert [(e.start_ms, e.end_ms, e.score) for e in stored] == [(100_000, 104_000, 0.95)]
    index.close()
