"""Serving a clip while it is assembled: a writer thread fills a bounded queue that the response drains."""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

from storage.clips import ClipPlan, write_clip
from storage.leases import SegmentLeases

_DONE = object()
QUEUE_CHUNKS = 8  # chunks of up to 1 MiB in flight: a slow client slows the writer, memory stays flat


class ClientGone(Exception):
    pass


class _QueueWriter:
    """A write-only file object for PyAV that hands each chunk to the response."""

    def __init__(self, chunks: queue.Queue[object], gone: threading.Event) -> None:
        self._chunks = chunks
        self._gone = gone

    def write(self, data: bytes) -> int:
        while not self._gone.is_set():
            try:
                self._chunks.put(bytes(data), timeout=0.5)
                return len(data)
            except queue.Full:
                continue
        raise ClientGone()


ClipWriter = Callable[..., object]  # write_clip's (plan, segments_dir, out, cancelled=...)


def stream_clip(plan: ClipPlan, segments_dir: Path, leases: SegmentLeases,
                write: ClipWriter = write_clip) -> Iterator[bytes]:
    """Yield the clip's bytes as they are produced by `write`; segments are leased until the writer ends."""
    chunks: queue.Queue[object] = queue.Queue(maxsize=QUEUE_CHUNKS)
    gone = threading.Event()
    failure: list[BaseException] = []

    def produce() -> None:
        try:
            with leases.hold(s.path for s in plan.segments):
                write(plan, segments_dir, _QueueWriter(chunks, gone), cancelled=gone.is_set)
        except ClientGone:
            pass
        except BaseException as exc:  # reported to the reader below
            failure.append(exc)
        finally:
            if not gone.is_set():
                chunks.put(_DONE)

    writer = threading.Thread(target=produce, name="clip-writer", daemon=True)
    writer.start()
    try:
        while (chunk := chunks.get()) is not _DONE:
            assert isinstance(chunk, bytes)
            yield chunk
        if failure:
            raise failure[0]
    finally:
        gone.set()
