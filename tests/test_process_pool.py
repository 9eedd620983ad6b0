"""The process pool's children: forked from a fork server that may have started long before (a test's output
captured, a variable set since), each gets its parent's environment and output of the moment it starts, and is
named after its role."""

from __future__ import annotations

import os
import signal
import sys
import time
from pathlib import Path

import pytest

from nvr.runtime.process_pool import ProcessPool
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


def started(pool: ProcessPool, name: str) -> int:
    pid = wait_for(lambda: pool.pid(name), 10, f"child {name}")
    assert pid is not None
    return pid


def test_children_outlive_a_killed_fork_server_and_are_still_watched_and_stopped() -> None:
    """The fork server killed (by hand, or for memory): its pipes close, yet the children run on. None is started a
    second time next to itself; one that ends later is restarted (from a new server), and stopping the pool still
    stops the ones the dead server had started."""
    pool = ProcessPool()
    pool.add("adopt-a", wait_quietly)
    pool.add("adopt-b", wait_quietly)
    pool.start()
    try:
        a, b = started(pool, "adopt-a"), started(pool, "adopt-b")
        server = parent_of(a)
        assert server != os.getpid() and server == parent_of(b), "forked by one server"
        os.kill(server, signal.SIGKILL)
        wait_for(lambda: not running(server), 10, "the server gone")
        os.kill(a, signal.SIGKILL)
        again = wait_for(lambda: running_named("nvr-adopt-a"), 20, "child a restarted")
        assert again == [pool.pid("adopt-a")] and again != [a], "one child a, a new one"
        # by now the pool has looked at its children since the server died: b was not started again
        assert running_named("nvr-adopt-b") == [b] == [pool.pid("adopt-b")], "child b runs on, alone"
    finally:
        pool.stop(timeout=10)
    assert not running(b), "stopping the pool stopped child b, whose server was gone"
    assert running_named("nvr-adopt-a") == []
