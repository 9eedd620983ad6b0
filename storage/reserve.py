"""A space reserve: a file of fixed size in the data folder, given back to the disk on demand.

On a disk filled to the last byte the index cannot even delete a row (SQLite must first append the
deletion to its write-ahead log), so retention could not free anything. Releasing the reserve gives
the index room for its deletions; it is allocated again once eviction has made room for it.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

log = logging.getLogger(__name__)
RESERVE_FILE = "space-reserve"


class SpaceReserve:
    def __init__(self, path: Path, size: int) -> None:
        self.path = path
        self.size = size  # 0: no reserve

    @property
    def held(self) -> bool:
        try:
            return self.path.stat().st_blocks * 512 >= self.size
        except FileNotFoundError:
            return False

    @property
    def missing_bytes(self) -> int:
        """What allocating the reserve would take from the disk now (0 when it is held)."""
        return 0 if self.held else self.size

    def release(self) -> bool:
        """Give the reserve back to the disk; False when there was nothing to give."""
        try:
            self.path.unlink()
        except FileNotFoundError:
            return False
        log.warning("disk full: released the %d-byte space reserve %s so the index can write", self.size, self.path)
        return True

    def allocate(self) -> bool:
        """Allocate the reserve (blocks really taken, not a sparse file); False when the disk has no room."""
        if self.size == 0 or self.held:
            return True
        partial = self.path.with_name(self.path.name + ".new")
        try:
            fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            try:
                os.posix_fallocate(fd, 0, self.size)
            finally:
                os.close(fd)
            partial.replace(self.path)
        except OSError as exc:
            partial.unlink(missing_ok=True)
            log.warning("could not allocate the %d-byte space reserve %s: %s", self.size, self.path, exc)
            return False
        log.info("allocated the %d-byte space reserve %s", self.size, self.path)
        return True
