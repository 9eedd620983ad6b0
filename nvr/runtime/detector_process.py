"""The detector process: the detector bank and the event machine of every camera, on a core of their own.

One Python process uses about one core. Detection shared the station's with the API: at 200 cameras in rain (about
1.2 cores at this machine's 400 µs a camera-frame) the API answered late and detection analysed fewer pictures. Here it
reads the work pictures the recorders put in shared memory (the station tells it where, and which cameras to
watch), ticks, and sends what it found to the station, which stores it. It listens on a socket of its own, as a
recorder does; the station connects, and connects again after a restart (then tells it everything again).
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import sys
import threading
import time
from collections import Counter
from multiprocessing import AuthenticationError
from multiprocessing.connection import Connection, Listener
from pathlib import Path

from detect.events import EventPolicy, EventUpdate
from detect.observation import Observation
from detect.settings import BankSettings
from nvr.detection import DetectionPipeline
from nvr.logs import setup_logging
from nvr.runtime.detector_messages import DetectCamera, PictureTable, Results, Tables
from nvr.runtime.parent_watch import exit_with_parent
from nvr.runtime.stop_request import StopRequest
from nvr.runtime.work_pictures import WorkPicture, WorkPictureTable

log = logging.getLogger(__name__)
# at most one tick this often, so that the frames of many cameras are processed together: a tick has a
# fixed cost of about 0.5 ms whatever it holds, and 50 ms is still less than a frame interval at 15 fps
# (a camera's newer frame would replace an older one still waiting)
TICK_SECONDS = 0.05
REST_SECONDS = 0.01  # ... and at least this long between two ticks
SILENCE_SECONDS = 1.0  # with no frames coming, look for cameras that went silent this often
ACCEPT_SECONDS = 0.1  # how often a detector waiting for the station looks whether it was asked to stop


def rest_after(busy: float) -> float:
    """How long to wait after a tick that took `busy` seconds (with the pictures' copy): ticks come every
    TICK_SECONDS while they take less, back to back (REST_SECONDS apart) when they take more. Waiting
    TICK_SECONDS after each tick instead made ticks of 20 ms (48 cameras) come every 70 ms, slower than the
    cameras' frames: detection skipped frames on an idle machine."""
    return max(REST_SECONDS, TICK_SECONDS - busy)


class _Tables:
    """The recorders' work-picture tables, attached as the station describes them."""

    def __init__(self) -> None:
        self._open: list[tuple[PictureTable, WorkPictureTable]] = []

    def replace(self, described: tuple[PictureTable, ...]) -> None:
        kept = {(d.path, d.owner, d.slots, d.work_size): table for d, table in self._open}
        opened = []
        for table in described:
            attached = kept.pop((table.path, table.owner, table.slots, table.work_size), None)
            if attached is None:
                try:
                    attached = WorkPictureTable(Path(table.path), table.slots, table.work_size, create=False)
                except (OSError, ValueError) as exc:  # the recorder went away meanwhile: told again when back
                    log.warning("cannot read work pictures from %s (%s)", table.path, exc)
                    continue
            opened.append((table, attached))
        for gone in kept.values():
            gone.close()
        self._open = opened

    def read(self) -> dict[str, WorkPicture]:
        """The pictures written since the last read, by camera."""
        pictures: dict[str, WorkPicture] = {}
        for described, table in self._open:
            for slot, picture in table.read_new().items():
                if (camera := described.cameras.get(slot)) is not None:
                    pictures[camera] = picture
        return pictures

    def close(self) -> None:
        self.replace(())


class Detector:
    """Ticks the pipeline on the pictures that came, between the station's messages."""

    def __init__(self, connection: Connection, pipeline: DetectionPipeline) -> None:
        self._connection = connection
        self._pipeline = pipeline
        self._tables = _Tables()
        self._analysed: Counter[str] = Counter()

    def run(self, asked: StopRequest) -> None:
        last_tick = 0.0
        due = time.monotonic()
        try:
            while not asked.stop:
                if self._connection.poll(max(0.0, due - time.monotonic())):
                    message = self._connection.recv()
                    try:
                        self._handle(message)
                    except Exception:  # one bad message must not restart detection for every camera
                        log.exception("could not apply the station's %s; going on", type(message).__name__)
                    continue
                began = time.monotonic()
                if self._submit() or began - last_tick >= SILENCE_SECONDS:
                    last_tick = began
                    self._tick(began)
                due = time.monotonic() + rest_after(time.monotonic() - began)
            self._send(self._pipeline.close(time.time()), [], None)
        finally:
            self._tables.close()

    def _handle(self, message: object) -> None:
        match message:
            case Tables(tables):
                self._tables.replace(tables)
            case DetectCamera(name, settings):
                if name in self._pipeline.bank.cameras():  # removed, or its settings changed: watched afresh
                    self._pipeline.forget(name)
                    self._analysed.pop(name, None)
                if settings is not None:
                    self._pipeline.watch(name, settings)

    def _submit(self) -> bool:
        arrived = self._tables.read()
        for camera, picture in arrived.items():
            chroma = (picture.chroma[0], picture.chroma[1]) if picture.chroma is not None else None
            try:
                self._pipeline.submit(camera, picture.luma, chroma, picture.t)
            except Exception:  # a picture it cannot take (a bug) costs that camera that picture, no more
                log.exception("camera %s: could not take its work picture; going on", camera)
                continue
            self._analysed[camera] += 1
        return bool(arrived)

    def _tick(self, began: float) -> None:
        try:
            updates = self._pipeline.tick(time.time())
        except Exception:  # a bug must not end detection for every camera
            log.exception("detection tick failed; going on")
            return
        self._send(updates, list(self._pipeline.observed.values()), time.monotonic() - began)

    def _send(self, updates: list[EventUpdate], observed: list[Observation], seconds: float | None) -> None:
        self._connection.send(Results(updates, self._pipeline.motion_seconds(), observed, dict(self._analysed),
                                      [] if seconds is None else [seconds]))
        self._analysed.clear()


def detector_main(address: str, authkey: bytes, bank: BankSettings, policy: EventPolicy, log_level: str,
                  nicer: int) -> None:
    """Entry point of the detector process (started by the station process, `nicer` than it)."""
    exit_with_parent()
    os.setpgrp()  # a terminal's Ctrl-C goes to the supervisor alone
    os.nice(nicer)  # it takes every cycle it is given: recording, then the API, go first (design/runtime.md)
    setup_logging(log_level)
    asked = StopRequest((signal.SIGTERM,))
    try:
        listener = Listener(address, "AF_UNIX", authkey=authkey)
    except OSError as exc:  # started again with a backoff, as after any exit, until the socket is free
        log.error("the detector cannot listen for the station (%s): another process holds this data folder's "
                  "detector socket; no camera is analysed until it is free", exc.strerror or exc)
        sys.exit(1)
    with listener:
        log.info("detector (pid %d) waiting for the station", os.getpid())
        connection = _accepted(listener, asked)
        if connection is None:
            return
    with connection:
        try:
            Detector(connection, DetectionPipeline(bank, policy)).run(asked)
        except (EOFError, OSError):  # the station went away: it starts another detector with itself
            log.info("the station went away; detector ending")


def _accepted(listener: Listener, asked: StopRequest) -> Connection | None:
    """The station's connection (authenticated); None when asked to stop first. A thread waits in `accept`, which a
    signal does not end."""
    accepted: list[Connection] = []

    def accept() -> None:
        with contextlib.suppress(OSError, EOFError, AuthenticationError):  # a stranger at the socket
            accepted.append(listener.accept())

    waiting = threading.Thread(target=accept, name="station-accept", daemon=True)
    waiting.start()
    while not asked.stop and not accepted:
        waiting.join(ACCEPT_SECONDS)
        if not waiting.is_alive() and not accepted:  # refused: wait for the next
            waiting = threading.Thread(target=accept, name="station-accept", daemon=True)
            waiting.start()
    return accepted[0] if accepted else None
