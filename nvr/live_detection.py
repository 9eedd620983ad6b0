"""Live detection, the station's side. The detector process (`nvr/runtime/detector_process.py`), started and
restarted from here, is told which cameras to watch and where the recorders put their work pictures; what it finds
goes to the event writer (index rows, snapshots, the event bus that feeds the WebSocket and the station screen), and
where it saw motion to the motion grid writer. Each camera's newest observation is kept for the API and the alerts."""

from __future__ import annotations

import logging
import queue
import secrets
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import replace
from multiprocessing import AuthenticationError
from multiprocessing.connection import Client, Connection
from pathlib import Path

from prometheus_client import Histogram

from detect.events import Event, EventPolicy, EventUpdate
from detect.observation import Observation
from detect.settings import BankSettings, CameraDetectSettings
from nvr.event_writer import EventWriter
from nvr.motion_writer import MotionGridWriter
from nvr.runtime.detector_messages import DetectCamera, PictureTable, Results, Tables, detector_address
from nvr.runtime.detector_process import detector_main
from nvr.runtime.process_pool import ProcessPool
from nvr.runtime.recorder_link import RECONNECT_SECONDS

log = logging.getLogger(__name__)
DETECTOR = "detector"
TICK_BUCKETS = (0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1.0)
POLL_SECONDS = 0.1  # how often the recorders' tables and the cameras' changes are looked at to tell the detector
PictureTables = Callable[[], tuple[PictureTable, ...]]  # every connected recorder's


class LiveDetection:
    def __init__(self, data_dir: Path, bank: BankSettings, policy: EventPolicy, tables: PictureTables,
                 writer: EventWriter, grids: MotionGridWriter, log_level: str = "INFO", nicer: int = 0) -> None:
        """`nicer`: how much nicer than this process the detector runs."""
        self._policy = policy
        self._tables = tables
        self._writer = writer
        self._grids = grids
        # observed once a tick; read by the metrics (nvr/metrics.py)
        self.tick_seconds = Histogram("nvr_detection_tick_seconds", "Time one detection tick took (all cameras)",
                                      buckets=TICK_BUCKETS, registry=None)
        self.analysed: Counter[str] = Counter()  # pictures taken per camera (fewer than it sends when short of CPU)
        self.observed: dict[str, Observation] = {}  # each camera's newest observation (mode, tamper, weather)
        self._cameras: dict[str, CameraDetectSettings] = {}
        self._open: dict[tuple[str, str, float], Event] = {}  # started and not ended: ended here if the detector dies
        self._lock = threading.Lock()  # guards the dictionaries above; no socket is used under it
        # what to tell the detector, sent by the link thread alone: a detector that reads slowly (busy, stopped) holds
        # that thread, never a caller of `watch` (the API's event loop) nor a reader of `observed`
        self._outbox: queue.SimpleQueue[DetectCamera] = queue.SimpleQueue()
        self._address, self._authkey = detector_address(data_dir), secrets.token_bytes(32)
        self._pool = ProcessPool()
        self._pool.add(DETECTOR, detector_main, self._address, self._authkey, bank, policy, log_level, nicer)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="detector-link", daemon=True)

    @property
    def pid(self) -> int | None:
        """The detector process's."""
        return self._pool.pid(DETECTOR)

    def watch(self, name: str, settings: CameraDetectSettings) -> None:
        """Watch `name`, whose work pictures a recorder writes (again with new settings: it starts afresh)."""
        with self._lock:
            self._cameras[name] = settings
            self._outbox.put(DetectCamera(name, settings))

    def watched(self, name: str) -> CameraDetectSettings | None:
        """The settings `name` is watched with (None: not watched)."""
        with self._lock:
            return self._cameras.get(name)

    def forget(self, name: str) -> None:
        """Stop watching `name`, and drop what was last seen of it (its mode, tamper and weather, its count)."""
        with self._lock:
            self._cameras.pop(name, None)
            self.observed.pop(name, None)
            self.analysed.pop(name, None)
            self._outbox.put(DetectCamera(name, None))

    def start(self) -> None:
        self._writer.start()
        self._grids.start()
        self._pool.start()
        self._thread.start()

    def stop(self) -> None:
        """The detector ends its open events and motion seconds, and they are stored, before the writers stop."""
        self._pool.stop()
        self._stop.set()
        self._thread.join(timeout=5)
        self._writer.stop()
        self._grids.stop()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                connection = Client(self._address, "AF_UNIX", authkey=self._authkey)
            except (OSError, EOFError, AuthenticationError):  # not listening yet, or another program's socket
                self._stop.wait(RECONNECT_SECONDS)
                continue
            try:
                self._follow(connection)
            except (OSError, EOFError):
                pass
            except Exception:  # a bug here must not end detection for good: the detector is connected afresh
                log.exception("the link to the detector failed; connecting again")
                self._stop.wait(RECONNECT_SECONDS)
            finally:
                connection.close()
                self._detector_lost()

    def _follow(self, connection: Connection) -> None:
        with self._lock:  # everything asked before now is in this: what waits in the outbox is older
            cameras = [DetectCamera(name, settings) for name, settings in self._cameras.items()]
            while not self._outbox.empty():
                self._outbox.get_nowait()
        for camera in cameras:
            connection.send(camera)
        log.info("connected to the detector (pid %s)", self.pid)
        told: tuple[PictureTable, ...] | None = None
        while not self._stop.is_set():
            while not self._outbox.empty():
                connection.send(self._outbox.get_nowait())
            tables = self._tables()
            if tables != told:
                connection.send(Tables(tables))
                told = tables
            if connection.poll(POLL_SECONDS):
                self._received(connection.recv())

    def _received(self, message: object) -> None:
        if not isinstance(message, Results):
            return
        for update in message.updates:
            event = update.event
            key = (event.camera, event.type, event.start)
            if update.kind == "ended":
                self._open.pop(key, None)
            else:
                self._open[key] = event
        self._writer.put(message.updates)
        self._grids.put(message.motion)
        with self._lock:  # a camera forgotten since the detector's tick is not brought back by it
            self.observed.update((seen.camera, seen) for seen in message.observed if seen.camera in self._cameras)
            self.analysed.update({name: n for name, n in message.analysed.items() if name in self._cameras})
        for seconds in message.tick_seconds:
            self.tick_seconds.observe(seconds)

    def _detector_lost(self) -> None:
        """The detector went away (it died, or the station stops and it could not end them itself): the events it
        had open end now, as a closing detector would end them, and what it last saw of each camera (its mode,
        tamper, weather) is no longer told as current."""
        with self._lock:
            self.observed.clear()
        if not self._open:
            return
        now = time.time()
        ended = [EventUpdate("ended", replace(event, end=max(now, event.start),
                                               clip_end=max(now, event.start) + self._policy.post_roll_seconds))
                 for event in self._open.values()]
        self._open.clear()
        if not self._stop.is_set():
            log.error("the detector went away with %d events open; they end now", len(ended))
        self._writer.put(ended)
