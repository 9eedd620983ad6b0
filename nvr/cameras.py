"""The station's cameras live in the catalog; config.yaml's list seeds it.

A camera in config.yaml is managed by the file: its entry is written to the catalog at each start, so
editing the file and restarting changes it, and taking it out of the file removes it. A camera added
through the API or `nvr camera`, or a file camera changed or removed there, is managed by the catalog
from then on, and the file's entry for it is ignored (with a log line).
"""

from __future__ import annotations

import logging
import time
from collections import Counter
from typing import Any

from pydantic import ValidationError

from nvr.config import CameraConfig, Config
from storage.camera_store import CameraStore, NameNotFreeYet, StoredCamera

log = logging.getLogger(__name__)
DISABLED = "disabled"  # why a camera that is not recorded is offline (the API's last_error, MQTT's reason)


def camera_settings(camera: CameraConfig) -> dict[str, Any]:
    """What the catalog keeps of a camera (everything but its name)."""
    return camera.model_dump(mode="json", exclude={"name"})


def camera_from(stored: StoredCamera) -> CameraConfig | None:
    """The stored camera as settings, or None (logged) when what is stored is no longer valid."""
    try:
        camera = CameraConfig.model_validate({**stored.settings, "name": stored.name})
    except ValidationError as exc:
        log.error("camera %s: its stored settings are not valid (%d problems); it is not recorded", stored.name,
                  exc.error_count())
        return None
    camera.register_secrets()  # whichever process reads the camera (station, recorder) hides its passwords
    return camera


def seed_from_config(config: Config, store: CameraStore, now_ms: int) -> None:
    stored = {camera.name: camera for camera in store.all(removed=True)}
    for camera in config.cameras:
        current = stored.get(camera.name)
        settings = camera_settings(camera)
        if current is not None and current.managed_by == "catalog":
            if current.settings != settings:
                log.info("camera %s is managed in the catalog (API or `nvr camera`); its entry in the configuration "
                         "file is ignored", camera.name)
            continue
        if current is None or current.settings != settings or current.removed:
            try:
                store.put(camera.name, settings, "config", now_ms)
            except NameNotFreeYet as exc:  # taken out of the file and put back within seconds, across two starts
                log.info("%s: waiting", exc)
                time.sleep(exc.wait_seconds)
                now_ms += exc.wait_seconds * 1000
                store.put(camera.name, settings, "config", now_ms)
    in_file = {camera.name for camera in config.cameras}
    for current in stored.values():
        if current.managed_by == "config" and not current.removed and current.name not in in_file:
            log.info("camera %s was taken out of the configuration file: no longer recorded", current.name)
            store.remove(current.name, now_ms)


def assign_recorders(store: CameraStore, recorders: int) -> dict[str, int]:
    """Give each enabled camera that has no recorder (or one beyond `recorders`) the least loaded one;
    returns every enabled camera's recorder."""
    enabled = [camera for camera in store.all() if camera.settings.get("enabled", True)]
    load = Counter(camera.recorder for camera in enabled if camera.recorder is not None and camera.recorder < recorders)
    moved: dict[str, int] = {}
    for camera in enabled:
        if camera.recorder is None or camera.recorder >= recorders:
            chosen = min(range(recorders), key=lambda k: (load[k], k))
            load[chosen] += 1
            moved[camera.name] = chosen
    if moved:
        store.assign(moved)
    return {camera.name: moved.get(camera.name, camera.recorder or 0) for camera in enabled}


def recorder_cameras(store: CameraStore, recorder: int) -> list[CameraConfig]:
    """The enabled cameras that `recorder` reads."""
    return [settings for camera in store.all() if camera.recorder == recorder
            if (settings := camera_from(camera)) is not None and settings.enabled]
