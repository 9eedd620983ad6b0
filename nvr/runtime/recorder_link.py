"""The station process's side of one recorder process: its cameras' latest reports, live frames into
the hubs, where its work pictures are (for the detector process), snapshots on request. Reconnects by itself when
the recorder restarts."""

from __future__ import annotations

import itertools
import logging
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import replace
from multiprocessing.connection import Client, Connection
from pathlib import Path

from ingest.live_hub import LiveHub
from nvr.runtime.detector_messages import PictureTable
from nvr.runtime.messages import (
    CameraReport,
    Hello,
    LiveAudio,
    LiveData,
    LiveReset,
    Reload,
    Reports,
    Slots,
    SnapshotReply,
    SnapshotRequest,
    Watch,
    recorder_address,
)

log = logging.getLogger(__name__)
RECONNECT_SECONDS = 0.2
SNAPSHOT_TIMEOUT_SECONDS = 3.0
POLL_SECONDS = 0.25


class RecorderLink:
    def __init__(self, data_dir: Path, shard: int, authkey: bytes, hubs: dict[tuple[str, str], LiveHub],
                 on_lost: Callable[[list[str]], None] = lambda _cameras: None) -> None:
        self.shard = shard
        self._on_lost = on_lost  # the recorder went away while the station runs: its cameras are not recorded
        self._address = recorder_address(data_dir, shard)
        self._authkey = authkey
        self._hubs = hubs  # (camera, role) -> hub, shared with the station
        self._lock = threading.Lock()
        self._connection: Connection | None = None
        self._table: PictureTable | None = None  # where its work pictures are, while connected
        self.reports: dict[str, CameraReport] = {}
        self.heard: dict[str, float] = {}  # camera -> when its latest report came (monotonic seconds)
        self._watched: dict[tuple[str, str], tuple[bool, bool]] = {}  # (camera, role) -> (frames, sound) wanted
        self._requests = itertools.count()
        self._pending: dict[int, Future[bytes | None]] = {}
        self._stop = threading.Event()
        self._connected = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"recorder-link-{shard}", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)

    def wait_connected(self, timeout: float) -> bool:
        return self._connected.wait(timeout)

    # ------------------------------------------------------------------ requests

    def watch(self, camera: str, role: str, on: bool, sound: bool = False) -> None:
        with self._lock:
            if on or sound:
                self._watched[(camera, role)] = (on, sound)
            else:
                self._watched.pop((camera, role), None)
        self._send(Watch(camera, role, on, sound))

    def snapshot(self, camera: str) -> bytes | None:
        """The camera's newest detect frame as a JPEG; None when there is none or the recorder is away."""
        request = next(self._requests)
        future: Future[bytes | None] = Future()
        self._pending[request] = future
        try:
            if not self._send(SnapshotRequest(request, camera)):
                return None
            return future.result(SNAPSHOT_TIMEOUT_SECONDS)
        except FutureTimeout:
            return None
        finally:
            self._pending.pop(request, None)

    def reload(self) -> None:
        """Ask the recorder to read its camera list again."""
        self._send(Reload())

    def picture_table(self) -> PictureTable | None:
        """Where the recorder puts its cameras' work pictures; None while it is away."""
        return self._table

    def _send(self, message: object) -> bool:
        with self._lock:
            connection = self._connection
            if connection is None:
                return False
            try:
                connection.send(message)
                return True
            except (OSError, ValueError):
                return False

    # ------------------------------------------------------------------ receiving

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                connection = Client(self._address, "AF_UNIX", authkey=self._authkey)
            except (OSError, EOFError):
                self._stop.wait(RECONNECT_SECONDS)
                continue
            try:
                self._receive(connection)
            except (OSError, EOFError):
                pass
            finally:
                self._disconnected(connection)

    def _receive(self, connection: Connection) -> None:
        while not self._stop.is_set():
            if not connection.poll(POLL_SECONDS):  # `stop` is seen without closing under a blocked recv
                continue
            message = connection.recv()
            match message:
                case LiveData(camera, role, frame):
                    hub = self._hubs.get((camera, role))
                    if hub is not None:
                        hub.publish(frame)
                case LiveAudio(camera, role, chunk):
                    if (hub := self._hubs.get((camera, role))) is not None:
                        hub.publish_audio(chunk)
                case Reports(cameras):
                    self.reports = {**self.reports, **{report.camera: report for report in cameras}}
                    self.heard = {**self.heard, **dict.fromkeys((report.camera for report in cameras),
                                                                time.monotonic())}
                case LiveReset(camera, role):
                    if (hub := self._hubs.get((camera, role))) is not None:
                        hub.reset()
                case SnapshotReply(request, jpeg):
                    if (future := self._pending.get(request)) is not None and not future.done():
                        future.set_result(jpeg)
                case Hello():
                    self._hello(connection, message)
                case Slots(slots):
                    with self._lock:
                        if self._table is not None:
                            self._table = replace(self._table, cameras={slot: name for name, slot in slots.items()})

    def _hello(self, connection: Connection, hello: Hello) -> None:
        table = PictureTable(hello.table_path, hello.pid, hello.table_slots, hello.work_size,
                             {slot: name for name, slot in hello.slots.items()})
        with self._lock:
            self._table = table
            self._connection = connection
            watched = list(self._watched.items())
        for (camera, role), (on, sound) in watched:  # viewers that were watching before a recorder restart
            if (hub := self._hubs.get((camera, role))) is not None:
                hub.reset()
            self._send(Watch(camera, role, on, sound))
        log.info("connected to recorder %d (pid %d, %d cameras)", self.shard, hello.pid, len(hello.slots))
        self._connected.set()

    def _disconnected(self, connection: Connection) -> None:
        with self._lock:
            was_up = self._connection is connection
            if was_up:
                self._connection = None
            cameras = list(self._table.cameras.values()) if self._table is not None else []
            self._table = None
            self.reports, self.heard = {}, {}
        if was_up and not self._stop.is_set():
            log.error("recorder %d went away; its cameras are not recorded until it is back", self.shard)
            self._on_lost(cameras)
        connection.close()
        self._connected.clear()
        for future in list(self._pending.values()):
            if not future.done():
                future.set_result(None)
