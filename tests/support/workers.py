"""A camera's stream worker run for the length of a test's block."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from ingest.worker import StreamWorker


@contextmanager
def running(worker: StreamWorker, join_seconds: float = 30) -> Iterator[StreamWorker]:
    """The worker started; stopped and waited for however the block ends."""
    worker.start()
    try:
        yield worker
    finally:
        worker.stop()
        worker.join(join_seconds)
