"""The disk under the data folder: its size and free space (one statvfs), and whether an error means it is full."""

from __future__ import annotations

import errno
import os
from dataclasses import dataclass
from pathlib import Path

DISK_FULL_ERRNOS = frozenset({errno.ENOSPC, errno.EDQUOT})
SQLITE_FULL = "database or disk is full"
POSTGRES_DISK_FULL = "53100"  # SQLSTATE disk_full


@dataclass(frozen=True)
class DiskUsage:
    total: int
    free: int  # what an unprivileged writer may still use (f_bavail), as `df` shows it
    used: int  # what files take (not the blocks the file system keeps for root: ext4's 5 %)
    writable: int  # what this process may still write: root may use the blocks kept for it


def disk_usage(path: Path) -> DiskUsage:
    stat = os.statvfs(path)
    size = stat.f_frsize
    return DiskUsage(stat.f_blocks * size, stat.f_bavail * size, (stat.f_blocks - stat.f_bfree) * size,
                     (stat.f_bfree if os.geteuid() == 0 else stat.f_bavail) * size)


def free_bytes(path: Path) -> int:
    return disk_usage(path).free


def is_disk_full(exc: BaseException) -> bool:
    """True when `exc`, or an error it wraps (SQLAlchemy's `orig`, a cause), says the disk is full."""
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, OSError) and seen.errno in DISK_FULL_ERRNOS:
            return True
        if SQLITE_FULL in str(seen) or getattr(seen, "sqlstate", None) == POSTGRES_DISK_FULL:
            return True
        wrapped = getattr(seen, "orig", None)
        seen = wrapped if isinstance(wrapped, BaseException) else seen.__cause__
    return False
