"""Child processes kept alive: each is restarted when it dies, without touching the others.

Children are forked from `multiprocessing`'s fork server: a process started fresh (never a fork of one that runs
threads) that has imported the modules the pools name (`preload`), so a child, and a child restarted after a
crash, starts without a second of imports. It gets the parent's environment of the moment and is named after its
role (`ps`, `top`). A child that keeps dying is restarted after a growing delay, up to RESTART_MAX_SECONDS.

The pool learns that a child ended from its pidfd (`child_watch`), not from the fork server's pipe: a child outliving
its server is kept, watched, restarted and stopped as before.
"""

from __future__ import annotations

import importlib
import logging
import multiprocessing
import multiprocessing.connection
import os
import signal
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from multiprocessing import reduction
from typing import Any

from nvr.runtime.child_watch import ChildWatch
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
    watch: ChildWatch | None = None  # from its start until it has ended and is done with
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
        if isinstance(target, str) and not all(target.partition(":")[0::2]):
            raise ValueError(f"a child's target is a function or 'module:function', not {target!r}")
        self.children[name] = ChildSpec(name, target, args)

    def start(self) -> None:
        """Start every child, from the pool's own thread, which watches and restarts them."""
        self._thread.start()
        self._launched.wait()

    def pid(self, name: str) -> int | None:
        watch = self.children[name].watch
        return watch.pid if watch is not None else None

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
            running = [(child.name, child.watch) for child in group if child.watch and not child.watch.ended()]
            for _, watch in running:
                watch.send(signal.SIGTERM)
            for name, watch in running:
                if not watch.wait(max(0.1, deadline - time.monotonic())):
                    log.error("%s did not stop in time; killed", name)
                    watch.send(signal.SIGKILL)
                    watch.wait(5)
        for child in self.children.values():
            if child.watch is not None:
                child.watch.close()
                child.watch = None

    def _launch(self, child: ChildSpec) -> None:
        process = _context.Process(target=child_main, name=child.name, daemon=False,
                                   args=(child.name, dict(os.environ), ParentOutput(), child.target, child.args))
        process.start()
        child.watch, child.started, child.due = ChildWatch(process), time.monotonic(), None

    def _watch(self) -> None:
        try:
            for child in self.children.values():
                self._launch(child)
        finally:
            self._launched.set()  # `start` returns even if a child could not be started (the error is logged)
        while not self._stop.is_set():
            watched = {c.watch.fileno(): c for c in self.children.values() if c.watch is not None}
            ready = set(multiprocessing.connection.wait(list(watched), timeout=0.2))
            if self._stop.is_set():
                break
            now = time.monotonic()
            for fd, child in watched.items():
                if fd in ready:
                    self._schedule_restart(child, now)
            for child in self.children.values():
                if child.due is not None and now >= child.due:
                    self._launch(child)
        self._shutdown()

    @staticmethod
    def _schedule_restart(child: ChildSpec, now: float) -> None:
        """A child has ended: it starts again after its delay."""
        watch = child.watch
        assert watch is not None
        exitcode = watch.close()
        child.watch = None
        lived = now - child.started
        if lived >= STABLE_SECONDS:
            child.delay = RESTART_MIN_SECONDS
        child.due = now + child.delay
        child.delay = min(RESTART_MAX_SECONDS, child.delay * 2)
        log.error("%s (pid %s) ended with exit code %s after %.1f s; restarting", child.name, watch.pid, exitcode,
                  lived)


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
    resolved(target)(*args)


def resolved(target: Target) -> Callable[..., None]:
    """The function `target` is, or names ("module:function"), imported."""
    if not isinstance(target, str):
        return target
    module, _, function = target.partition(":")
    found: Callable[..., None] = getattr(importlib.import_module(module), function)
    return found
