"""Child processes end with their parent: a recorder left running by a killed supervisor would keep
writing into a data folder that a new station may already own."""

from __future__ import annotations

import functools
import multiprocessing
import os
import signal
import threading
import time
from collections.abc import Callable

CHECK_SECONDS = 1.0


def exit_with_parent() -> None:
    """Get SIGTERM when the parent ends, as the process would at a Ctrl-C of the supervisor.

    A child started by `multiprocessing` holds a pipe whose other end only its parent holds: the pipe closes the
    moment the parent ends, whoever forked the child (the fork server's children are not the parent's in the
    process tree, so Linux's parent-death signal would follow the server instead), and a parent already gone
    when this is asked is seen at once. A process started otherwise watches its parent's pid (an orphan is
    adopted, so its parent's pid changes).
    """
    parent = multiprocessing.parent_process()
    gone = parent.join if parent is not None else functools.partial(_orphaned, os.getppid())
    threading.Thread(target=_end_after, args=(gone,), name="parent-watch", daemon=True).start()


def _end_after(wait: Callable[[], object]) -> None:
    wait()
    os.kill(os.getpid(), signal.SIGTERM)


def _orphaned(parent_pid: int) -> None:
    while os.getppid() == parent_pid:
        time.sleep(CHECK_SECONDS)
