"""Handing items from worker threads to listeners on asyncio event loops, never blocking the sender."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterable
from typing import Generic, Protocol, TypeVar

T = TypeVar("T")
T_contra = TypeVar("T_contra", contravariant=True)


class LoopListener(Protocol[T_contra]):
    loop: asyncio.AbstractEventLoop

    def offer(self, item: T_contra) -> None:
        """Runs on the listener's own loop; decides what to do when the listener falls behind."""


class Fanout(Generic[T]):
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._listeners: set[LoopListener[T]] = set()

    @property
    def count(self) -> int:
        with self._lock:
            return len(self._listeners)

    def subscribe(self, listener: LoopListener[T], backlog: Iterable[T] = ()) -> None:
        """Add a listener, first handing it `backlog` (in order, before anything published later)."""
        with self._lock:
            self._listeners.add(listener)
            for item in backlog:
                self._deliver(listener, item)

    def unsubscribe(self, listener: LoopListener[T]) -> None:
        with self._lock:
            self._listeners.discard(listener)

    def publish(self, item: T) -> None:
        with self._lock:
            for listener in list(self._listeners):
                self._deliver(listener, item)

    def _deliver(self, listener: LoopListener[T], item: T) -> None:
        """Called with the lock held."""
        try:
            listener.loop.call_soon_threadsafe(listener.offer, item)
        except RuntimeError:
            self._listeners.discard(listener)  # its loop has closed
