"""Child processes end with the supervisor: a recorder left running by a killed supervisor would keep
writing into a data folder that a new station may already own."""

from __future__ import annotations

import ctypes
import multiprocessing
import os
import signal
import threading
import time

PR_SET_PDEATHSIG = 1
CHECK_SECONDS = 1.0


def exit_with_parent() -> None:
    """Get SIGTERM when the parent ends, as the process would at a Ctrl-C of the supervisor.

    Linux's parent-death signal does it at once, but only for a parent that is still alive when it is asked
    for (a supervisor killed while this process started is not noticed) and only where Linux has it; a thread
    that looks at the parent's pid once a second catches the rest (a process whose parent ended is adopted,
    so its parent's pid changes).
    """
    parent = multiprocessing.parent_process()
    parent_pid = parent.pid if parent is not None and parent.pid is not None else os.getppid()
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
    except (OSError, AttributeError):
        pass
    threading.Thread(target=_watch, args=(parent_pid,), name="parent-watch", daemon=True).start()


def _watch(parent_pid: int) -> None:
    while os.getppid() == parent_pid:
        time.sleep(CHECK_SECONDS)
    os.kill(os.getpid(), signal.SIGTERM)
