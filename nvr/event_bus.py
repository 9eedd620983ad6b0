"""Event updates from the detection thread to every WebSocket listener on the event loop."""

from __future__ import annotations

import asyncio
import threading

from storage.events import Event

LISTENER_QUEUE = 256


class EventListener:
    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop
        self.queue: asyncio.Queue[Event] = asyncio.Queue(LISTENER_QUEUE)

    def offer(self, update: Event) -> None:
        """Runs on the listener's loop; a listener too slow to keep up loses the oldest updates."""
        if self.queue.full():
            self.queue.get_nowait()
        self.queue.put_nowait(update)


class EventBus:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._listeners: set[EventListener] = set()

    @property
    def listener_count(self) -> int:
        with self._lock:
            return len(self._listeners)

    def subscribe(self, listener: EventListener) -> None:
        with self._lock:
            self._listeners.add(listener)

    def unsubscribe(self, listener: EventListener) -> None:
        with self._lock:
            self._listeners.discard(listener)

    def publish(self, update: Event) -> None:
        """Thread-safe; never blocks the caller."""
        with self._lock:
            listeners = list(self._listeners)
        for listener in listeners:
            try:
                listener.loop.call_soon_threadsafe(listener.offer, update)
            except RuntimeError:
                self.unsubscribe(listener)  # its loop is gone
