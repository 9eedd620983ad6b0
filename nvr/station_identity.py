"""The station id that scopes this box's catalog rows: configured, or derived once and kept in the data folder.

A derived id must never change (the rows recorded under it would belong to nobody), so it is written
to `data_dir/station-id` the first time and read back ever after; the random suffix keeps two boxes
with the same host name (every fresh install of one image) apart on a shared database.
"""

from __future__ import annotations

import logging
import re
import secrets
import socket
from pathlib import Path

from nvr.config import CAMERA_NAME, Config
from nvr.write_once import write_once

log = logging.getLogger(__name__)
ID_FILE = "station-id"
_SUFFIX_LENGTH = 6


def derive_station_id(hostname: str) -> str:
    """`hostname` slugified (at most 56 characters) plus a random 6-character suffix."""
    slug = re.sub(r"[^a-z0-9_-]+", "-", hostname.lower()).strip("-_")[:63 - _SUFFIX_LENGTH - 1].rstrip("-_")
    return f"{slug or 'station'}-{secrets.token_hex(_SUFFIX_LENGTH // 2)}"


def station_id(config: Config) -> str:
    """This box's station id; the first call on a fresh data folder derives and stores one."""
    path = config.data_dir / ID_FILE
    stored = _read(path)
    if config.station.id is not None:
        if stored is not None and stored != config.station.id:
            log.warning("station.id %r is configured; rows recorded under the earlier id %r (%s) are not this "
                        "station's any more", config.station.id, stored, path)
        return config.station.id
    if stored is not None:
        return stored
    return _store_once(path, derive_station_id(socket.gethostname()))


def _read(path: Path) -> str | None:
    try:
        text = path.read_text(encoding="utf-8").strip()
    except FileNotFoundError:
        return None
    if not CAMERA_NAME.match(text):
        raise ValueError(f"{path}: {text!r} is not a station id (lowercase letters, digits, '-' or '_')")
    return text


def _store_once(path: Path, candidate: str) -> str:
    """Write `candidate` unless another process got there first; either way return the stored id."""
    write_once(path, (candidate + "\n").encode())
    stored = _read(path)
    assert stored is not None
    return stored
