"""One station per data folder: an exclusive `flock` on `data_dir/station.lock`, held while `nvr run` lives.

Two recorders on one folder would index each other's open files and fight over the same rows, so the
second one must stop before it reads or writes anything. The kernel drops the lock when the process
ends, however it ends (kill -9 included), so a stale lock file never blocks a restart.
"""

from __future__ import annotations

import fcntl
import os
import socket
from pathlib import Path
from types import TracebackType
from typing import Self

LOCK_FILE = "station.lock"


class DataFolderError(Exception):
    """The data folder cannot be used."""


class DataFolderBusy(DataFolderError):
    """Another process holds the data folder."""


class DataFolderLock:
    def __init__(self, data_dir: Path) -> None:
        self.path = data_dir / LOCK_FILE
        self._fd: int | None = None

    def acquire(self) -> None:
        """Take the lock or raise DataFolderBusy naming the holder (DataFolderError when the folder cannot be made or
        written); never waits."""
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as exc:  # a file of that name, no permission, a read-only disk
            reason = "it is a file, not a folder" if self.path.parent.is_file() else exc.strerror or str(exc)
            raise DataFolderError(f"cannot use {self.path.parent} as the data folder: {reason}") from None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.read(fd, 200).decode(errors="replace").strip() or "another process"
            os.close(fd)
            raise DataFolderBusy(f"{self.path.parent} is already used by a running station ({holder}); "
                                 "stop it first, or give this one another data_dir") from None
        os.ftruncate(fd, 0)
        os.write(fd, f"pid {os.getpid()} on {socket.gethostname()}\n".encode())
        self._fd = fd

    def release(self) -> None:
        if self._fd is not None:
            os.close(self._fd)  # closing the descriptor drops the lock
            self._fd = None

    def __enter__(self) -> Self:
        self.acquire()
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 trace: TracebackType | None) -> None:
        self.release()
