"""The process pool's children: forked from a fork server that may have started long before (a test's output
captured, a variable set since), each gets its parent's environment and output of the moment it starts, and is
named after its role."""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

import pytest

from nvr.runtime.process_pool import ProcessPool
from tests.conftest import wait_for


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
