"""The recorder's side of its socket: messages to the station process go through a bounded queue and a
sender thread, so a slow or absent station never holds up a camera thread."""

from __future__ import annotations

import logging
import queue
import threading
from multiprocessing.connection import Connection

from nvr.runtime.messages import LiveData

log = logging.getLogger(__name__)
QUEUE_LIMIT = 4000  # messages (about 4 s of 60 watched streams)


class StationOutlet:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._connection: Connection | None = None
        self._queue: queue.Queue[object] = queue.Queue(QUEUE_LIMIT)
        self._resync: set[tuple[str, str]] = set()  # live streams that lost a frame: wait for a keyframe
        self._thread = threading.Thread(target=self._run, name="station-outlet", daemon=True)
        self._thread.start()

    def attach(self, connection: Connection) -> None:
        """A station connected: from now on messages go to it (the previous one, if any, is dropped)."""
        with self._lock:
            old, self._connection = self._connection, connection
            self._resync.clear()
        if old is not None:
            old.close()

    def send(self, message: object) -> None:
        """Queue `message` for the station; dropped when nobody listens or the queue is full."""
        if self._connection is None:
            return
        if isinstance(message, LiveData):
            key = (message.camera, message.role)
            if key in self._resync:
                if not message.frame.keyframe:
                    return
                self._resync.discard(key)
        try:
            self._queue.put_nowait(message)
        except queue.Full:
            if isinstance(message, LiveData):
                self._resync.add((message.camera, message.role))

    def _run(self) -> None:
        while True:
            message = self._queue.get()
            connection = self._connection
            if connection is None:
                continue
            try:
                connection.send(message)
            except (OSError, ValueError):
                with self._lock:
                    if self._connection is connection:
                        self._connection = None
                connection.close()
