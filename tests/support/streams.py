"""Reading an endless streamed answer (a live MP4) in the background."""

from __future__ import annotations

import io
import threading

import av
import httpx


class Watcher(threading.Thread):
    """A viewer reading `url` with a bearer token until `stop` is set (at its next chunk) or the answer ends."""

    def __init__(self, url: str, key: str) -> None:
        super().__init__(daemon=True)
        self.url, self.key = url, key
        self.body = bytearray()
        self.status = 0
        self.stop = threading.Event()

    def run(self) -> None:
        with httpx.stream("GET", self.url, headers={"Authorization": f"Bearer {self.key}"}, timeout=30) as answer:
            self.status = answer.status_code
            for chunk in answer.iter_raw():
                self.body += chunk
                if self.stop.is_set():
                    return

    def end(self) -> None:
        self.stop.set()
        self.join(10)

    def pictures(self) -> list[tuple[int, int]]:
        """(width, height) of every picture read so far."""
        with av.open(io.BytesIO(bytes(self.body)), "r") as container:
            return [(frame.width, frame.height) for frame in container.decode(video=0)]

