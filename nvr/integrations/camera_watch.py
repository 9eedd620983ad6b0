"""The cameras as other systems see them: present or not, online or offline and why. A thread reads them
twice a second (the recorders report every 0.5 s) and reports each camera that appeared, changed or went."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from ingest.status import StatusSnapshot
from nvr.cameras import DISABLED
from nvr.config import CameraConfig

log = logging.getLogger(__name__)
POLL_SECONDS = 0.5


@dataclass(frozen=True)
class CameraState:
    title: str  # what people call it (its name when it has no title)
    online: bool
    reason: str  # why it is offline; empty while online


class StationCameras(Protocol):
    def camera_list(self) -> list[CameraConfig]: ...

    def record_status(self, camera: str) -> StatusSnapshot | None: ...


def camera_state(camera: CameraConfig, status: StatusSnapshot | None) -> CameraState:
    """Online only while its main stream is: connecting counts as offline, with the last error as the reason."""
    title = camera.title or camera.name
    if status is None:
        return CameraState(title, False, DISABLED)
    if status.state == "online":
        return CameraState(title, True, "")
    return CameraState(title, False, status.last_error or status.state)


Changed = Callable[[str, CameraState | None], None]  # (camera, its new state, or None once it is gone)


class CameraWatch:
    def __init__(self, station: StationCameras, changed: Changed) -> None:
        self._station = station
        self._changed = changed
        self._seen: dict[str, CameraState] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="camera-watch", daemon=True)

    def start(self) -> None:
        self._look()  # every camera is known before the first event can name one
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)

    def _run(self) -> None:
        while not self._stop.wait(POLL_SECONDS):
            try:
                self._look()
            except Exception:  # a bug must not end the reports for good
                log.exception("camera watch failed; going on")

    def _look(self) -> None:
        now = {c.name: camera_state(c, self._station.record_status(c.name)) for c in self._station.camera_list()}
        for name in self._seen.keys() - now.keys():
            self._changed(name, None)
        for name, state in now.items():
            if self._seen.get(name) != state:
                self._changed(name, state)
        self._seen = now
