"""A child process ends when its parent does, even when the parent was gone before the child asked to."""

from __future__ import annotations

import multiprocessing
import os
import subprocess
import sys
import time
from pathlib import Path

from nvr.runtime.parent_watch import exit_with_parent
from tests.conftest import wait_for

ROOT = Path(__file__).resolve().parent.parent


def late_child(started: float) -> None:
    """Asks to end with its parent only after the parent has exited, then would live on for a minute."""
    wait_for(lambda: os.getppid() != multiprocessing.parent_process().pid, 10, "the parent gone")  # type: ignore[union-attr]
    exit_with_parent()
    time.sleep(60 - (time.monotonic() - started))


def start_late_child() -> None:
    """Run as a separate parent: start the child, print its pid and exit at once."""
    child = multiprocessing.get_context("spawn").Process(target=late_child, args=(time.monotonic(),))
    child.start()
    print(child.pid, flush=True)
    os._exit(0)


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return Path(f"/proc/{pid}/stat").read_text().split(") ")[1][0] != "Z"


def test_a_child_whose_parent_ended_before_it_asked_still_ends() -> None:
    script = "from tests.test_parent_watch import start_late_child; start_late_child()"
    # the child inherits the pipe: read its pid and close our end rather than wait for the pipe to close
    with subprocess.Popen([sys.executable, "-c", script], cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)},
                          stdout=subprocess.PIPE, text=True) as parent:
        assert parent.stdout is not None
        pid = int(parent.stdout.readline())
        parent.stdout.close()
        parent.wait(10)
    assert alive(pid), "the child outlived its parent at first"
    wait_for(lambda: not alive(pid), 15, "the orphaned child to end by itself")
