"""Child processes kept alive: each is restarted when it dies, without touching the others.

Children are forked from `multiprocessing`'s fork server: a process started fresh (never a fork of one that runs
threads) that has imported the modules the pools name (`preload`), so a child, and a child restarted after a
crash, starts without a second of imports. It gets the parent's environment of the moment and is named after its
role (`ps`, `top`). A child that keeps dying is restarted after a growing delay, up to RESTART_MAX_SECONDS.
"""

from __future__ import annotations

import logging
import multiprocessing
import multiprocessing.connection
import multiprocessing.process
import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from multiprocessing import reduction
from typing import Any

from nvr.runtime.process_name import name_process

log = logging.getLogger(__name__)
RESTART_MIN_SECONDS, RESTART_MAX_SECONDS = 0.2, 10.0
STABLE_SECONDS = 30.0  # a child that lived this long starts again at the shortest delay
_context = multiprocessing.get_context("forkserver")
_preloaded: set[str] = set()  # every pool's preload in this process: the server starts with what is known then


@dataclass
class ChildSpec:
    name: str
    target: Callable[..., None]
    args: tuple[object, ...]
    process: multiprocessing.process.BaseProcess | None = None
    started: float = 0.0
    delay: float = RESTART_MIN_SECONDS
    due: float | None = None  # monotonic time of a restart waiting for its delay


class ProcessPool:
    def __init__(self, preload: tuple[str, ...] = ()) -> None:
        """`preload`: the modules the children's targets import (read when this process's fork server starts)."""
        _preloaded.update(preload)
        _context.set_forkserver_preload(sorted(_preloaded))
        self.children: dict[str, ChildSpec] = {}
        self._stop = threading.Event()
        self._launched = threading.Event()
        self._first: tuple[str, ...] = ()
        self._timeout = 30.0
        self._thread = threading.Thread(target=self._watch, name="process-pool", daemon=True)

    def add(self, name: str, target: Callable[..., None], *args: object) -> None:
        self.children[name] = ChildSpec(name, target, args)

    def start(self) -> None:
        """Start every child, from the pool's own thread, which watches and restarts them."""
        self._thread.start()
        self._launched.wait()

    def pid(self, name: str) -> int | None:
        process = self.children[name].process
        return process.pid if process is not None else None

    def stop(self, first: tuple[str, ...] = (), timeout: float = 30.0) -> None:
        """SIGTERM the children named in `first` and wait for them, then the others; SIGKILL a child still
        running at the deadline. Nothing is restarted from here on. The pool's thread does it, in that order."""
        self._first, self._timeout = first, timeout
        self._stop.set()
        self._thread.join(timeout + 10)

    def _shutdown(self) -> None:
        deadline = time.monotonic() + self._timeout
        first = self._first
        for group in ([n for n in self.children if n in first], [n for n in self.children if n not in first]):
            processes = [p for n in group if (p := self.children[n].process) is not None and p.is_alive()]
            for process in processes:
                process.terminate()
            for process in processes:
                process.join(max(0.1, deadline - time.monotonic()))
                if process.is_alive():
                    log.error("%s did not stop in time; killed", process.name)
                    process.kill()
                    process.join(5)

    def _launch(self, child: ChildSpec) -> None:
        process = _context.Process(target=child_main, name=child.name, daemon=False,
                                   args=(child.name, dict(os.environ), ParentOutput(), child.target, child.args))
        process.start()
        child.process, child.started, child.due = process, time.monotonic(), None

    def _watch(self) -> None:
        for child in self.children.values():
            self._launch(child)
        self._launched.set()
        while not self._stop.is_set():
            sentinels = {c.process.sentinel: c for c in self.children.values()
                         if c.process is not None and c.due is None}
            ready = multiprocessing.connection.wait(list(sentinels), timeout=0.2)
            if self._stop.is_set():
                break
            now = time.monotonic()
            for sentinel in ready:
                child = sentinels[sentinel]  # type: ignore[index]
                assert child.process is not None
                child.process.join()
                lived = now - child.started
                if lived >= STABLE_SECONDS:
                    child.delay = RESTART_MIN_SECONDS
                child.due = now + child.delay
                child.delay = min(RESTART_MAX_SECONDS, child.delay * 2)
                log.error("%s (pid %s) ended with exit code %s after %.1f s; restarting", child.name,
                          child.process.pid, child.process.exitcode, lived)
            for child in self.children.values():
                if child.due is not None and now >= child.due:
                    self._launch(child)
        self._shutdown()


class ParentOutput:
    """The parent's standard output and error as they are when it starts a child (a test's captured ones, say),
    which a child of the fork server would not otherwise have: it gets the server's, of the server's start."""

    def __reduce__(self) -> tuple[Callable[..., None], tuple[object, ...]]:
        return _take_output, (reduction.DupFd(1), reduction.DupFd(2))


def _take_output(out: Any, err: Any) -> None:
    for wrapper, fd in ((out, 1), (err, 2)):
        handed = wrapper.detach()
        os.dup2(handed, fd)
        os.close(handed)


def child_main(name: str, environment: dict[str, str], _output: None, target: Callable[..., None],
               args: tuple[object, ...]) -> None:
    """A child's first steps: the environment its parent had when it started it (the fork server has the one of its
    own start; its output was taken as the arguments were read: `ParentOutput`), and its role as the process's
    name."""
    os.environ.clear()
    os.environ.update(environment)
    name_process(f"nvr-{name}")
    target(*args)
