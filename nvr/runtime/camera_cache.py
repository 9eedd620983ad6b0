"""The cameras a recorder last read from the catalog, kept in the data folder, so that a recorder started
again while the catalog does not answer (a post's link to the district's PostgreSQL is down) records them
as they were. The file holds what the catalog holds (camera URLs with their passwords): readable by the
station's user only."""

from __future__ import annotations

import json
import os
from pathlib import Path

from nvr.config import CameraConfig
from storage.catalog_journal import JOURNAL_DIR


def cache_path(data_dir: Path, shard: int) -> Path:
    return data_dir / JOURNAL_DIR / f"cameras-{shard}.json"


def save_cameras(path: Path, cameras: list[CameraConfig]) -> None:
    text = json.dumps([camera.model_dump(mode="json") for camera in cameras])
    if path.exists() and path.read_text() == text:
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(".tmp")
    with os.fdopen(os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "w") as out:
        out.write(text)
    partial.replace(path)


def load_cameras(path: Path) -> list[CameraConfig]:
    """The cameras saved last; none when nothing was saved."""
    if not path.exists():
        return []
    cameras = [CameraConfig.model_validate(fields) for fields in json.loads(path.read_text())]
    for camera in cameras:
        camera.register_secrets()
    return cameras
