"""Child processes end with the supervisor: a recorder left running by a killed supervisor would keep
writing into a data folder that a new station may already own."""

from __future__ import annotations

import ctypes
import signal

PR_SET_PDEATHSIG = 1


def exit_with_parent() -> None:
    """Ask Linux to send SIGTERM to this process when its parent ends (no-op where unsupported)."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
    except (OSError, AttributeError):
        pass
