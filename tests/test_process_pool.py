"""The process pool's children: forked from a fork server that may have started long before (a test's output
captured, a variable set since), each gets its parent's environment and output of the moment it starts, and is
named after its role."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from nvr.runtime.process_pool import ProcessPool, resolved
from nvr.runtime.recorder_process import recorder_main
from nvr.runtime.recorders import RECORDER_MAIN
from tests.conftest import wait_for
from tests.support.processes import parent_of, running, running_named


def tell(word: str) -> None:
    """A child: says on its standard error what its parent's environment and its own name are, then waits."""
    name = Path("/proc/self/comm").read_text().strip()
    print(f"{word}: {os.environ.get('NVR_POOL_TEST', 'unset')} as {name}", file=sys.stderr, flush=True)
    time.sleep(60)


def test_a_child_has_its_parents_environment_and_output_of_the_moment_and_its_roles_name(
        capfd: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    with capfd.disabled():  # the server starts before the output is captured and before the variable is set
        first = ProcessPool()
        first.add("first", tell, "first")
        first.start()
        wait_for(lambda: first.pid("first"), 10, "the first child")
        first.stop()
    monkeypatch.setenv("NVR_POOL_TEST", "set since")
    pool = ProcessPool()
    pool.add("recorder-7", tell, "second")
    pool.start()
    said: list[str] = []

    def heard() -> bool:
        said.append(capfd.readouterr().err)
        return "second:" in "".join(said)

    try:
        wait_for(heard, 20, "the child's line")
    finally:
        pool.stop()
    assert "second: set since as nvr-recorder-7" in "".join(said)


def wait_quietly() -> None:
    """A child: waits to be stopped."""
    time.sleep(120)


def started(pool: ProcessPool, name: str, instead_of: int | None = None) -> int:
    """The pid of child `name` (another than `instead_of`) once it runs under its role's name (after its imports)."""
    pid = wait_for(lambda: pool.pid(name) not in (None, instead_of) and pool.pid(name), 10, f"child {name}")
    assert pid is not None
    wait_for(lambda: running_named(f"nvr-{name}") == [pid], 20, f"child {name} named")
    return pid


def test_children_outlive_a_killed_fork_server_and_are_still_watched_and_stopped() -> None:
    """The fork server killed (by hand, or for memory): its pipes close, yet the children run on. None is started a
    second time next to itself; one that ends later is restarted (from a new server), and stopping the pool still
    stops the ones the dead server had started."""
    a_name, b_name = f"a{os.getpid() % 100000}", f"b{os.getpid() % 100000}"  # this run's own (15 characters at most)
    pool = ProcessPool()
    pool.add(a_name, wait_quietly)
    pool.add(b_name, wait_quietly)
    pool.start()
    try:
        a, b = started(pool, a_name), started(pool, b_name)
        server = parent_of(a)
        assert server != os.getpid() and server == parent_of(b), "forked by one server"
        os.kill(server, signal.SIGKILL)
        wait_for(lambda: not running(server), 10, "the server gone")
        os.kill(a, signal.SIGKILL)
        started(pool, a_name, instead_of=a)  # restarted
        # by now the pool has looked at its children since the server died: b was not started again
        assert running_named(f"nvr-{b_name}") == [b] == [pool.pid(b_name)], "child b runs on, alone"
    finally:
        pool.stop(timeout=10)
    assert not running(b), "stopping the pool stopped child b, whose server was gone"
    assert running_named(f"nvr-{a_name}") == []


def test_a_child_is_followed_through_the_server_pipe_where_pidfds_are_refused(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """A kernel older than 5.3, or a container's seccomp profile, refuses pidfds: the pool follows its children
    through the fork server's pipe, restarts one that ends and stops the others."""
    def refused(pid: int, flags: int = 0) -> int:
        raise PermissionError(1, "Operation not permitted")

    monkeypatch.setattr(os, "pidfd_open", refused)
    name = f"c{os.getpid() % 100000}"
    pool = ProcessPool()
    pool.add(name, wait_quietly)
    pool.start()
    try:
        first = started(pool, name)
        os.kill(first, signal.SIGKILL)
        started(pool, name, instead_of=first)  # restarted
    finally:
        pool.stop(timeout=10)
    assert running_named(f"nvr-{name}") == [], "stopped"


def exit_on_usr1() -> None:
    """A child: ends with exit code 7 at SIGUSR1."""
    signal.signal(signal.SIGUSR1, lambda *_: os._exit(7))
    time.sleep(120)


REAPER = """
import ctypes, logging, os, signal, sys, time
logging.basicConfig(level=logging.INFO, stream=sys.stdout, format="%(message)s")
ctypes.CDLL(None, use_errno=True).prctl(36, 1, 0, 0, 0)  # PR_SET_CHILD_SUBREAPER: orphans below come to this process
from nvr.runtime.process_pool import ProcessPool
from tests.support.processes import parent_of
from tests.test_process_pool import exit_on_usr1, started
name = f"r{os.getpid() % 100000}"  # this run's own
pool = ProcessPool()
pool.add(name, exit_on_usr1)
pool.start()
child = started(pool, name)
os.kill(parent_of(child), signal.SIGKILL)  # the fork server
deadline = time.monotonic() + 10
while parent_of(child) != os.getpid() and time.monotonic() < deadline:
    time.sleep(0.05)
print("adopted", parent_of(child) == os.getpid(), flush=True)
os.kill(child, signal.SIGUSR1)
started(pool, name, instead_of=child)
print("reaped", not os.path.exists(f"/proc/{child}"), flush=True)
pool.stop(timeout=10)
"""


def test_an_orphan_that_comes_to_the_pools_process_is_reaped_with_its_exit_code() -> None:
    """In a container with no init, `nvr run` is the first process: a child whose fork server died is reparented to
    it. When it ends, the pool reaps it (no zombie) and logs its own exit code, not the dead server's 255. A child
    subreaper stands for the first process here."""
    result = subprocess.run([sys.executable, "-c", REAPER], capture_output=True, text=True, timeout=90, check=False,
                            cwd=Path(__file__).resolve().parent.parent, stdin=subprocess.DEVNULL)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "adopted True" in result.stdout and "reaped True" in result.stdout, result.stdout
    assert "ended with exit code 7 after" in result.stdout, result.stdout


def test_a_target_is_a_function_or_a_module_and_function_named() -> None:
    assert resolved(RECORDER_MAIN) is recorder_main, "the recorders' target names their function"
    with pytest.raises(ValueError, match="module:function"):
        ProcessPool().add("bad", "nvr.runtime.recorder_process")
