"""Child processes kept alive: each is restarted when it dies, without touching the others.

Children are started with the `spawn` method (no fork of a process that runs threads). A child that
keeps dying is restarted after a growing delay, up to RESTART_MAX_SECONDS.
"""

from __future__ import annotations

import logging
import multiprocessing
import multiprocessing.connection
import multiprocessing.process
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

log = logging.getLogger(__name__)
RESTART_MIN_SECONDS, RESTART_MAX_SECONDS = 0.2, 10.0
STABLE_SECONDS = 30.0  # a child that lived this long starts again at the shortest delay
_spawn = multiprocessing.get_context("spawn")


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
    def __init__(self) -> None:
        self.children: dict[str, ChildSpec] = {}
        self._stop = threading.Event()
        self._launched = threading.Event()
        self._first: tuple[str, ...] = ()
        self._timeout = 30.0
        self._thread = threading.Thread(target=self._watch, name="process-pool", daemon=True)

    def add(self, name: str, target: Callable[..., None], *args: object) -> None:
        self.children[name] = ChildSpec(name, target, args)

    def start(self) -> None:
        """Start every child, from the pool's own thread: Linux's parent-death signal (parent_watch) follows
        the thread that started a child, and this thread lives as long as the pool."""
        self._thread.start()
        self._launched.wait()

    def pid(self, name: str) -> int | None:
        process = self.children[name].process
        return process.pid if process is not None else None

    def stop(self, first: tuple[str, ...] = (), timeout: float = 30.0) -> None:
        """SIGTERM the children named in `first` and wait for them, then the others; SIGKILL a child still
        running at the deadline. Nothing is restarted from here on. The pool's thread does it: were it to
        end first, the parent-death signal would stop every child at once."""
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
        process = _spawn.Process(target=child.target, args=child.args, name=child.name, daemon=False)
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
