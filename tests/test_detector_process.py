"""Detection runs in a process of its own (nvr/runtime/detector_process.py), neither the station's (the API) nor a
recorder's: it has a core to itself. Killed, it is started again and watches every camera again; the events it had
open are ended by the station (none stays open for ever), and new ones come."""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import station_config, wait_for
from tests.support.media import motorbike_scene
from tests.support.rtsp import RtspServer


@pytest.fixture(scope="module")
def bikes(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RtspServer]:
    """A shopfront where a motorbike crosses every 10 s."""
    from ingest.demo import encode

    path = tmp_path_factory.mktemp("bikes") / "bikes.mp4"
    encode(motorbike_scene(seconds=60.0, enters=(2.0, 12.0, 22.0, 32.0, 42.0, 52.0)), path)
    with RtspServer([], files={"bikes": path}) as server:
        yield server


def test_the_detector_is_a_process_of_its_own_and_comes_back_after_a_kill(bikes: RtspServer, tmp_path: Path,
                                                                          make_station) -> None:
    station, client = make_station(station_config(tmp_path, [{"name": "cua-hang", "record_url": bikes.url("bikes")}]))
    first = station.detection.pid
    wait_for(lambda: station.recorder_pid("cua-hang") is not None, 10, "the recorder")
    assert first is not None and first not in (os.getpid(), station.recorder_pid("cua-hang"))

    def motion() -> list[dict]:
        return client.get("/api/events", params={"camera": "cua-hang", "type": "motion"}).json()

    wait_for(lambda: any(e["end_ms"] is None for e in motion()), 30, "a motorbike's event going on")
    [held] = [e for e in motion() if e["end_ms"] is None]
    killed_ms = round(time.time() * 1000)
    os.kill(first, signal.SIGKILL)
    wait_for(lambda: client.get(f"/api/events/{held['id']}").json()["end_ms"] is not None, 10,
             "the event the detector had open ended by the station")
    wait_for(lambda: station.detection.pid not in (None, first), 15, "the detector started again")
    wait_for(lambda: any(e["start_ms"] > killed_ms and e["id"] != held["id"] for e in motion()), 40,
             "the next motorbike found by the new detector")
    assert station.detection.observed["cua-hang"].t > killed_ms / 1000, "what it sees reaches the API again"
