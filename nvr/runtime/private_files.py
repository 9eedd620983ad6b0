"""What the station writes is not for the box's other users: the catalog holds the cameras' passwords, the footage
and the exports are evidence. The systemd unit sets UMask=0027; `nvr run` started by hand under a shell's usual 022
made them readable by every local account (found in review), so it narrows the mask itself, and takes the world's
read bit off a SQLite catalog made before."""

from __future__ import annotations

import os
from pathlib import Path

PRIVATE_UMASK = 0o027  # as the unit's: the group may read (a backup account), other users nothing
SQLITE_FILES = ("", "-wal", "-shm", "-journal")


def keep_private(sqlite_file: Path | None) -> None:
    """Narrow this process's umask (its children inherit it) and the modes of the SQLite catalog's files, if any."""
    os.umask(os.umask(PRIVATE_UMASK) | PRIVATE_UMASK)
    if sqlite_file is None:
        return
    for suffix in SQLITE_FILES:
        path = sqlite_file.with_name(sqlite_file.name + suffix)
        try:
            mode = path.stat().st_mode & 0o777
            if mode & PRIVATE_UMASK:
                path.chmod(mode & ~PRIVATE_UMASK)
        except FileNotFoundError:
            continue
