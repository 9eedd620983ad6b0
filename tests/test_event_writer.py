"""Detection hands its results to the event writer and goes on: a database that takes its time delays
the rows, never the next tick."""

from __future__ import annotations

import threading
import time
from collections.abc import Collection
from pathlib import Path

import pytest

from detect.events import Event as DetectedEvent
from detect.events import EventUpdate
from detect.observation import Box
from nvr.event_bus import EventBus
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
