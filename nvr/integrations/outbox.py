"""The bounded queue between the station's threads and an integration's sender thread. Putting never waits;
when the queue is full the oldest message is dropped and counted: a broker or receiver away for hours must
not grow the station's memory without end, and the newest news is worth the most."""

from __future__ import annotations

import logging
import threading
from collections import deque
from typing import Generic, TypeVar

log = logging.getLogger(__name__)
T = TypeVar("T")


class Outbox(Generic[T]):
    def __init__(self, limit: int, name: str) -> None:
        self._limit = limit
        self._name = name
        self._items: deque[T] = deque()
        self._ready = threading.Condition()
        self._dropping = False  # dropped since the queue was last empty
        self.dropped = 0  # in all, since the start

    def __len__(self) -> int:
        with self._ready:
            return len(self._items)

    def put(self, item: T) -> None:
        with self._ready:
            began_dropping = len(self._items) >= self._limit and not self._dropping
            if len(self._items) >= self._limit:
                self._items.popleft()
                self.dropped += 1
                self._dropping = True
            self._items.append(item)
            self._ready.notify()
        if began_dropping:  # logged outside the lock: the caller is another part of the station
            log.warning("%s: %d messages wait to be sent; the oldest are dropped until they can be", self._name,
                        self._limit)

    def get(self, timeout: float) -> T | None:
        """The oldest message, waiting up to `timeout` seconds for one; None if none came."""
        with self._ready:
            if not self._items:
                self._ready.wait(timeout)
            if not self._items:
                return None
            item = self._items.popleft()
            caught_up = self._dropping and not self._items
            if caught_up:
                self._dropping = False
        if caught_up:
            log.warning("%s: the queue has emptied; %d messages were dropped in all", self._name, self.dropped)
        return item
