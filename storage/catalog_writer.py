"""One thread that writes a recorder's catalog rows, so that a slow, locked or unreachable database never
holds up the threads reading the cameras.

Rows wait in memory while the database is away and are written in order when it answers again; a row
the database refuses for good (a segment already indexed) is dropped with a log line. Files are on disk
before their rows are queued, so even rows lost with the process are found again by reconciliation.
"""

from __future__ import annotations

import logging
import threading
from collections import deque
from dataclasses import dataclass

from sqlalchemy.exc import IntegrityError, SQLAlchemyError

from storage.index import RecordingIndex, Segment

log = logging.getLogger(__name__)
MAX_WAITING = 100_000  # rows held while the database is away (a day of 60 cameras' segments)
RETRY_MIN_SECONDS, RETRY_MAX_SECONDS = 0.5, 5.0


@dataclass(frozen=True)
class OutageStart:
    camera: str
    start_ms: int
    reason: str


@dataclass(frozen=True)
class OutageEnd:
    camera: str
    end_ms: int


Row = Segment | OutageStart | OutageEnd


class CatalogWriter:
    def __init__(self, index: RecordingIndex) -> None:
        self._index = index
        self._waiting: deque[Row] = deque()
        self._cond = threading.Condition()
        self._stopping = False
        self._busy = False
        self._thread = threading.Thread(target=self._run, name="catalog-writer", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def put(self, row: Row) -> None:
        """Queue a row; never blocks on the database."""
        with self._cond:
            if len(self._waiting) >= MAX_WAITING:
                lost = self._waiting.popleft()
                log.error("catalog writer: %d rows waiting for the database; dropped the oldest (%s)",
                          MAX_WAITING, type(lost).__name__)
            self._waiting.append(row)
            self._cond.notify()

    def flush(self, timeout: float) -> bool:
        """Wait until everything queued so far is written (True) or `timeout` passes (False)."""
        with self._cond:
            return self._cond.wait_for(lambda: not self._waiting and not self._busy, timeout)

    def stop(self, timeout: float = 10.0) -> None:
        """Write what is queued (up to `timeout`), then end the thread."""
        self.flush(timeout)
        with self._cond:
            self._stopping = True
            self._cond.notify_all()
        self._thread.join(timeout=2)

    def _run(self) -> None:
        delay = RETRY_MIN_SECONDS
        while True:
            with self._cond:
                self._cond.wait_for(lambda: self._waiting or self._stopping)
                if self._stopping:
                    return
                batch = list(self._waiting)
                self._busy = True
            try:
                written = self._write(batch)
            finally:
                with self._cond:
                    for _ in range(written):
                        self._waiting.popleft()
                    self._busy = False
                    self._cond.notify_all()
            if written < len(batch):  # the database is away: wait, then try again from where it stopped
                with self._cond:
                    self._cond.wait_for(lambda: self._stopping, delay)
                delay = min(RETRY_MAX_SECONDS, delay * 2)
            else:
                delay = RETRY_MIN_SECONDS

    def _write(self, batch: list[Row]) -> int:
        """Write rows in order; returns how many are done with (written, or refused for good)."""
        segments = [row for row in batch if isinstance(row, Segment)]
        if len(segments) == len(batch) and len(batch) > 1:
            try:
                self._index.add_segments(segments)
                return len(batch)
            except SQLAlchemyError:
                pass  # one by one below, to tell a refused row from an absent database
        for done, row in enumerate(batch):
            try:
                self._apply(row)
            except IntegrityError as exc:
                log.error("catalog writer: the database refused %s for good: %s", _describe(row), exc.orig)
            except SQLAlchemyError as exc:
                log.warning("catalog writer: database unavailable (%s); %d rows wait", type(exc).__name__,
                            len(batch) - done)
                return done
        return len(batch)

    def _apply(self, row: Row) -> None:
        match row:
            case Segment():
                self._index.add_segment(row)
            case OutageStart(camera, start_ms, reason):
                self._index.open_outage(camera, start_ms, reason)
            case OutageEnd(camera, end_ms):
                self._index.close_outages(end_ms, camera)

def _describe(row: Row) -> str:
    return f"segment {row.path}" if isinstance(row, Segment) else f"{type(row).__name__} of {row.camera}"
