"""Event updates from the detection thread to every WebSocket listener on the event loop."""

from __future__ import annotations

import asyncio

from ingest.fanout import Fanout
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


EventBus = Fanout[Event]
