"""Room to start on a full disk, before the index is opened.

Opening the index writes (SQLite's WAL and shared-memory files, migrations, reconciliation, closing
outages), and retention works through the index, so on a disk filled to the last byte nothing could
start. First the space reserve is released; if that is not enough, the oldest segment files are
deleted (oldest first, as retention would) and reconciliation drops their rows once the index is open.
"""

from __future__ import annotations

import logging
from pathlib import Path

from storage.disk_space import free_bytes
from storage.layout import parse_relpath
from storage.reserve import SpaceReserve

log = logging.getLogger(__name__)


def make_room_to_start(reserve: SpaceReserve, segments_dir: Path) -> None:
    """Free `reserve.size` bytes when the disk has less (nothing to do on a fresh data folder)."""
    folder = reserve.path.parent
    if not folder.is_dir() or free_bytes(folder) >= reserve.size:
        return
    reserve.release()
    for path in _oldest_first(segments_dir):
        if free_bytes(folder) >= reserve.size:
            return
        path.unlink(missing_ok=True)
        log.warning("disk full at start: deleted the oldest segment %s", path)


def _oldest_first(segments_dir: Path) -> list[Path]:
    found = []
    for path in segments_dir.glob("*/*/*.mp4"):
        parsed = parse_relpath(path.relative_to(segments_dir).as_posix())
        if parsed is not None:
            found.append((parsed[1], path))
    return [path for _start, path in sorted(found)]
