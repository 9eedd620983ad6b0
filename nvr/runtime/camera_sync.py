"""The station process follows the catalog's camera list: a camera added, changed or removed (through the
API, `nvr camera`, or another process) gets a recorder, its live hubs and its place in detection, and
the recorders concerned read their lists again. The other cameras are not touched, nor is a camera's recording or
live view when only what the recorders do not read changed (its title, its masks: `CameraConfig.recording_part`)."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from functools import partial
from typing import Protocol

from sqlalchemy.exc import SQLAlchemyError

from detect.settings import CameraDetectSettings
from ingest.live_hub import LiveHub
from nvr.cameras import assign_recorders, camera_from
from nvr.config import CameraConfig
from nvr.runtime.recorder_link import RecorderLink
from storage.camera_store import CameraStore
from storage.catalog_away import CatalogAway

log = logging.getLogger(__name__)
POLL_SECONDS = 2.0  # how soon a change made by another process (`nvr camera`) is seen


class Detection(Protocol):
    """Where the cameras to analyse are told (`nvr.live_detection`)."""

    def watch(self, name: str, settings: CameraDetectSettings) -> None: ...

    def forget(self, name: str) -> None: ...


class CameraSync:
    def __init__(self, store: CameraStore, links: list[RecorderLink], detection: Detection,
                 hubs: dict[tuple[str, str], LiveHub], watch: Callable[[str, str, bool, bool], None]) -> None:
        self._store = store
        self._links = links
        self._detection = detection
        self._hubs = hubs
        self._watch = watch
        self.cameras: dict[str, CameraConfig] = {}  # every camera of the station, enabled or not
        self.recorder_of: dict[str, int] = {}  # the enabled ones, and who reads them
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._poll, name="camera-sync", daemon=True)

    def start(self) -> None:
        self.sync()
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)

    def sync(self) -> None:
        """Bring the running cameras to what the catalog says."""
        with self._lock:
            configs = {stored.name: camera for stored in self._store.all() if (camera := camera_from(stored))}
            assignment = assign_recorders(self._store, len(self._links))
            reload: set[int] = set()
            for name in sorted(set(self.cameras) | set(configs)):
                old, new = self.cameras.get(name), configs.get(name)
                before, after = self.recorder_of.get(name), assignment.get(name)
                if old == new and before == after:
                    continue
                if old is not None and new is not None and before == after and (
                        old.recording_part() == new.recording_part()):  # its streams go on as they are
                    if before is not None and new.detect.enabled and new.detect != old.detect:
                        self._detection.watch(name, new.detect.settings())
                    continue
                reload |= {recorder for recorder in (before, after) if recorder is not None}
                if old is not None and before is not None:
                    self._retire(old)
                if new is not None and after is not None:
                    self._admit(new)
            self.cameras, self.recorder_of = configs, assignment
        for recorder in sorted(reload):
            self._links[recorder].reload()

    def _retire(self, camera: CameraConfig) -> None:
        if camera.detect.enabled:
            self._detection.forget(camera.name)
        for role in camera.stream_urls:
            hub = self._hubs.pop((camera.name, role), None)
            if hub is not None:
                hub.reset()

    def _admit(self, camera: CameraConfig) -> None:
        for role in camera.stream_urls:
            self._hubs[(camera.name, role)] = LiveHub(partial(self._watch, camera.name, role))
        if camera.detect.enabled:
            self._detection.watch(camera.name, camera.detect.settings())

    def _poll(self) -> None:
        seen = self._store.version()
        away = CatalogAway(log, "camera list")
        while not self._stop.wait(POLL_SECONDS):
            try:
                now = self._store.version()
                away.answered()
                if now != seen:
                    seen = now
                    self.sync()
            except SQLAlchemyError as exc:
                away.failed(exc)
            except Exception:  # the database away for a moment must not end the following
                log.exception("could not read the camera list; trying again")
