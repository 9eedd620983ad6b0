"""Detection runs in a process of its own (nvr/runtime/detector_process.py), neither the station's (the API) nor a
recorder's: it has a core to itself. Killed, it is started again and watches every camera again; the events it had
open are ended by the station (none stays open for ever), and new ones come."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from multiprocessing import Pipe
from multiprocessing.connection import Listener
from pathlib import Path

import pytest

from detect.settings import CameraDetectSettings
from nvr.detection import DetectionPipeline
from nvr.runtime.detector_messages import DetectCamera, Tables, detector_address
from nvr.runtime.detector_process import Detector
from nvr.runtime.stop_request import StopRequest
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


def test_a_detector_that_reads_nothing_holds_up_no_caller(bikes: RtspServer, tmp_path: Path, make_station) -> None:
    """Stopped (or too busy to read), the detector's socket fills: a camera watched from the API then waited on it
    holding the lock the metrics and the API read `observed` under, and the station answered nothing."""
    station, client = make_station(station_config(tmp_path, [{"name": "cua-hang", "record_url": bikes.url("bikes")}]))
    wait_for(lambda: "cua-hang" in station.detection.observed, 30, "the detector seeing the camera")
    detector = station.detection.pid
    settings = CameraDetectSettings()
    done = threading.Event()

    def watch_many() -> None:
        for _ in range(5000):  # about 1.4 MB told: more than a socket holds
            station.detection.watch("cua-hang", settings)
        done.set()

    os.kill(detector, signal.SIGSTOP)
    try:
        threading.Thread(target=watch_many, daemon=True).start()
        wait_for(done.is_set, 10, "5000 watches told while the detector reads nothing")
        assert client.get("/api/health").status_code == 200
        stopped_at = time.time()
    finally:
        os.kill(detector, signal.SIGCONT)
    wait_for(lambda: station.detection.observed.get("cua-hang") is not None
             and station.detection.observed["cua-hang"].t > stopped_at, 30, "the detector seeing the camera again")
    assert station.detection.pid == detector


def test_a_message_the_detector_cannot_apply_is_skipped_and_the_next_one_applied() -> None:
    """Before, a bug met in one message ended the detector: started again, it met the same message (the station tells
    a new detector everything again) and ended again, and no camera was watched."""
    station_end, detector_end = Pipe()
    pipeline = DetectionPipeline()
    asked = StopRequest(())  # no handler: the test asks it to stop
    running = threading.Thread(target=Detector(detector_end, pipeline).run, args=(asked,), daemon=True)
    running.start()
    try:
        station_end.send(DetectCamera("hong", "not settings"))  # type: ignore[arg-type]
        station_end.send(Tables(("not a table",)))  # type: ignore[arg-type]
        station_end.send(DetectCamera("ngo-1", CameraDetectSettings()))
        wait_for(lambda: "ngo-1" in pipeline.bank.cameras(), 10, "the good camera watched after the bad messages")
        assert running.is_alive()
    finally:
        asked.signal = signal.SIGTERM
        running.join(10)
    assert not running.is_alive()


def test_a_detector_whose_socket_another_process_holds_says_so_and_ends(tmp_path: Path) -> None:
    """Another program on the data folder's detector socket: the detector cannot listen. It says why in one line and
    ends (its pool starts it again with a backoff), where it ended with a traceback that named no cause."""
    address = detector_address(tmp_path)
    start = ("import sys; from detect.events import EventPolicy; from detect.settings import BankSettings; "
             "from pathlib import Path; from nvr.runtime.detector_messages import detector_address; "
             "from nvr.runtime.detector_process import detector_main; "
             "detector_main(detector_address(Path(sys.argv[1])), b'k', BankSettings(), EventPolicy(), 'INFO', 0)")
    with Listener(address, "AF_UNIX", authkey=b"someone else's"):
        ended = subprocess.run([sys.executable, "-c", start, str(tmp_path)], stdin=subprocess.DEVNULL,
                               capture_output=True, text=True, timeout=60, check=False)
    assert ended.returncode == 1
    assert "another process holds this data folder's detector socket" in ended.stderr, ended.stderr
    assert "Traceback" not in ended.stderr
