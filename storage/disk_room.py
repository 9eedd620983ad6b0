"""Whether recordings may still be written: the room left for the catalog when nothing more can be deleted.

Retention keeps `storage.min_free_bytes` free by deleting the oldest footage. When it cannot (what is left is
locked by open cases, or another program filled the disk), the cameras went on writing to the last byte, and the
catalog could then not write a thing: no login (its session), no audit, no row of what was recorded. Recordings
stop while less than `storage.reserve_bytes` is free (the cameras say `disk full`), and start again at the next
keyframe once retention or the officer made room.
"""

from __future__ import annotations

import time
from pathlib import Path

from storage.disk_space import free_bytes

CHECK_SECONDS = 1.0  # one statvfs this often at most, for every camera of a recorder process


class DiskRoom:
    def __init__(self, folder: Path, floor_bytes: int) -> None:
        self._folder = folder
        self._floor = floor_bytes  # 0: write to the last byte
        self._checked = -CHECK_SECONDS
        self._room = True

    def __call__(self) -> bool:
        """Whether more than the floor is free (as of at most CHECK_SECONDS ago)."""
        if self._floor <= 0:
            return True
        now = time.monotonic()
        if now - self._checked >= CHECK_SECONDS:
            self._checked = now
            try:
                self._room = free_bytes(self._folder) >= self._floor
            except OSError:  # the folder is gone: the write itself will say why
                self._room = True
        return self._room
