"""Room to start on a full disk, before the index is opened.

Opening the index writes (SQLite's WAL and shared-memory files, migrations, reconciliation, closing
outages), and retention works through the index, so on a disk filled to the last byte nothing could
start. First the space reserve is released; if that is not enough, the oldest segment files that no open case
locks are deleted (oldest first, as retention would) and reconciliation drops their rows once the index is open.
Which footage is locked is read from the catalog first (on a disk full to the last byte, as a file nobody writes:
SQLite cannot create its shared-memory file there); when it cannot be read, nothing
is deleted: footage of a case is evidence, and the start then fails with the disk full, saying so.
"""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Callable
from pathlib import Path
from urllib.parse import quote

from sqlalchemy import create_engine
from sqlalchemy.exc import SQLAlchemyError

from storage.disk_space import disk_usage
from storage.index import RecordingIndex
from storage.layout import parse_relpath
from storage.reserve import SpaceReserve

log = logging.getLogger(__name__)
Locked = Callable[[], set[str] | None]  # the paths of the segments open cases lock (None: cannot tell)


def make_room_to_start(reserve: SpaceReserve, segments_dir: Path, locked: Locked) -> None:
    """Free `reserve.size` bytes when the disk has less (nothing to do on a fresh data folder)."""
    folder = reserve.path.parent
    if not folder.is_dir() or disk_usage(folder).writable >= reserve.size:
        return
    reserve.release()
    if disk_usage(folder).writable >= reserve.size:
        return
    kept = locked()
    if kept is None:
        log.error("disk full at start, and the catalog cannot tell which footage open cases lock: nothing deleted; "
                  "free space on %s", folder)
        return
    for path in _oldest_first(segments_dir):
        if disk_usage(folder).writable >= reserve.size:
            return
        if path.relative_to(segments_dir).as_posix() in kept:
            continue
        path.unlink(missing_ok=True)
        log.warning("disk full at start: deleted the oldest segment %s", path)


def catalog_locks(url: str, station: str) -> Locked:
    """What the catalog at `url` says open cases lock, read without migrating or writing anything."""
    def read() -> set[str] | None:
        unchanging = _unchanging(url, station)
        for opened in [lambda: RecordingIndex(url, station, migrate=False), *([unchanging] if unchanging else [])]:
            try:
                index = opened()
            except OSError as exc:  # its folder cannot even be made
                log.warning("could not open the catalog to read which footage open cases lock: %s", exc)
                continue
            try:
                return index.locked_paths()
            except (SQLAlchemyError, OSError) as exc:  # no catalog yet, an older schema, a disk too full to open it
                log.warning("could not read which footage open cases lock: %s", exc)
            finally:
                index.close()
        return None

    return read


def _unchanging(url: str, station: str) -> Callable[[], RecordingIndex] | None:
    """A SQLite catalog opened as a file nobody writes: SQLite opens a catalog in WAL mode by creating its
    shared-memory file, which a disk full to the last byte refuses. Only when the write-ahead log is empty (a clean
    stop): what it holds would be missed. Opened through a connection of its own making (no folder is made for
    it, the path is quoted)."""
    prefix = "sqlite:///"
    if not url.startswith(prefix) or "?" in url:
        return None
    path = Path(url[len(prefix):]).absolute()
    wal = path.with_name(path.name + "-wal")
    if not path.exists() or (wal.exists() and wal.stat().st_size > 0):
        return None
    uri = f"file:{quote(str(path))}?immutable=1"
    engine = create_engine("sqlite://", creator=lambda: sqlite3.connect(uri, uri=True, check_same_thread=False))
    return lambda: RecordingIndex(url, station, migrate=False, engine=engine)


def _oldest_first(segments_dir: Path) -> list[Path]:
    found = []
    for path in segments_dir.glob("*/*/*.mp4"):
        parsed = parse_relpath(path.relative_to(segments_dir).as_posix())
        if parsed is not None:
            found.append((parsed[1], path))
    return [path for _start, path in sorted(found)]
