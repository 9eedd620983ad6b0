"""Child processes kept alive: each is restarted when it dies, without touching the others.

Children are forked from `multiprocessing`'s fork server: a process started fresh (never a fork of one that runs
threads) that has imported the modules the pools name (`preload`), so a child, and a child restarted after a
crash, starts without a second of imports. It gets the parent's environment of the moment and is named after its
role (`ps`, `top`). A child that keeps dying is restarted after a growing delay, up to RESTART_MAX_SECONDS.

The pool learns that a child ended from a pidfd (Linux 5.3), not from `multiprocessing`'s sentinel: the sentinel is
the fork server's pipe, which also closes when the server dies (killed by hand, or for memory), and would then report
every child ended while they all still run. A child outliving its server is kept and watched as before.
"""

from __future__ import annotations

import contextlib
import importlib
import logging
import multiprocessing
import multiprocessing.connection
import multiprocessing.process
import os
import signal
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


Target = Callable[..., None] | str  # a function, or "module:function", imported in the child only


@dataclass
class ChildSpec:
    name: str
    target: Target
    args: tuple[object, ...]
    process: multiprocessing.process.BaseProcess | None = None
    pidfd: int | None = None  # readable once the child has ended; None before it starts, or if it was gone at once
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

    def add(self, name: str, target: Target, *args: object) -> None:
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
        for group in ([c for n, c in self.children.items() if n in first],
                      [c for n, c in self.children.items() if n not in first]):
            running = [child for child in group if not _has_ended(child)]
            for child in running:
                _signal(child, signal.SIGTERM)
            for child in running:
                _wait(child, max(0.1, deadline - time.monotonic()))
                if not _has_ended(child):
                    log.error("%s did not stop in time; killed", child.name)
                    _signal(child, signal.SIGKILL)
                    _wait(child, 5)
        for child in self.children.values():
            _forget(child)

    def _launch(self, child: ChildSpec) -> None:
        process = _context.Process(target=child_main, name=child.name, daemon=False,
                                   args=(child.name, dict(os.environ), ParentOutput(), child.target, child.args))
        process.start()
        assert process.pid is not None
        try:
            pidfd: int | None = os.pidfd_open(process.pid)
        except ProcessLookupError:
            pidfd = None  # ended (and reaped by the server) already
        child.process, child.pidfd, child.started, child.due = process, pidfd, time.monotonic(), None

    def _watch(self) -> None:
        for child in self.children.values():
            self._launch(child)
        self._launched.set()
        while not self._stop.is_set():
            watched = [c for c in self.children.values() if c.process is not None and c.due is None]
            gone = [c for c in watched if c.pidfd is None]
            waiting = {c.pidfd: c for c in watched if c.pidfd is not None}
            ready = multiprocessing.connection.wait(list(waiting), timeout=0 if gone else 0.2)
            if self._stop.is_set():
                break
            now = time.monotonic()
            for child in gone + [waiting[fd] for fd in ready]:  # type: ignore[index]
                self._schedule_restart(child, now)
            for child in self.children.values():
                if child.due is not None and now >= child.due:
                    self._launch(child)
        self._shutdown()

    @staticmethod
    def _schedule_restart(child: ChildSpec, now: float) -> None:
        """A child has ended: it starts again after its delay."""
        assert child.process is not None
        pid = child.process.pid
        exitcode = _forget(child)
        lived = now - child.started
        if lived >= STABLE_SECONDS:
            child.delay = RESTART_MIN_SECONDS
        child.due = now + child.delay
        child.delay = min(RESTART_MAX_SECONDS, child.delay * 2)
        log.error("%s (pid %s) ended with exit code %s after %.1f s; restarting", child.name, pid, exitcode, lived)


def _has_ended(child: ChildSpec) -> bool:
    return child.pidfd is None or bool(multiprocessing.connection.wait([child.pidfd], timeout=0))


def _wait(child: ChildSpec, seconds: float) -> None:
    if child.pidfd is not None:
        multiprocessing.connection.wait([child.pidfd], timeout=seconds)


def _signal(child: ChildSpec, number: signal.Signals) -> None:
    if child.pidfd is not None:
        with contextlib.suppress(ProcessLookupError):  # ended meanwhile
            signal.pidfd_send_signal(child.pidfd, number)


def _forget(child: ChildSpec) -> int | None:
    """Close an ended child's pidfd; its exit code, as its fork server reports it (255 if the server is gone)."""
    if child.pidfd is not None:
        os.close(child.pidfd)
        child.pidfd = None
    if child.process is None:
        return None
    child.process.join(1)
    return child.process.exitcode


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


def child_main(name: str, environment: dict[str, str], _output: None, target: Target,
               args: tuple[object, ...]) -> None:
    """A child's first steps: the environment its parent had when it started it (the fork server has the one of its
    own start; its output was taken as the arguments were read: `ParentOutput`), its role as the process's name,
    and its target, imported here when named as "module:function" (so that the parent need not load it)."""
    os.environ.clear()
    os.environ.update(environment)
    name_process(f"nvr-{name}")
    if isinstance(target, str):
        module, _, function = target.partition(":")
        getattr(importlib.import_module(module), function)(*args)
    else:
        target(*args)
