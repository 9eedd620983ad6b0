"""A process's name as `ps`, `top` and /proc/PID/comm show it: the station's children are forked from one
server and share its command line, so their name says which is which."""

from __future__ import annotations

import ctypes

PR_SET_NAME = 15
NAME_BYTES = 15  # Linux keeps 15 bytes and a NUL


def name_process(name: str) -> None:
    """Name the calling thread, which for a process's main thread is the process's name; where Linux's prctl is not
    there, nothing changes."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(PR_SET_NAME, name.encode()[:NAME_BYTES], 0, 0, 0)
    except (OSError, AttributeError):
        pass

