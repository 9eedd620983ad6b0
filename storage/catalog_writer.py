"""One thread that writes a recorder's catalog rows, so that a slow, locked or unreachable database never
holds up the threads reading the cameras.

`put` only appends to a list in memory. The thread appends what is there to the journal on disk
(storage/catalog_journal.py) and then applies the journal to the catalog in order. While the database is
away the rows gather in the journal, on disk, for as long as it takes (a post's link to the district's
PostgreSQL may be down for hours, the recorder may be restarted meanwhile); when it answers again they are
written in order, each once. A row the database refuses for good is dropped with a log line.
"""

from __future__ import annotations

import logging
import math
import threading
import time
from collections import deque
from pathlib import Path

from sqlalchemy.exc import DataError, IntegrityError, SQLAlchemyError

from storage.catalog_away import RETRY_FIRST_SECONDS, RETRY_MAX_SECONDS, CatalogAway
from storage.catalog_journal import JOURNAL_DIR, CatalogJournal
from storage.catalog_rows import OutageEnd, OutageStart, Row
from storage.index import RecordingIndex, Segment

log = logging.getLogger(__name__)
MAX_WAITING = 100_000  # rows held in memory when even the journal cannot be written (a full disk)
BATCH = 500  # rows written to the catalog in one go
SAID_AGAIN_SECONDS = 600  # a journal that cannot be written is logged again this often, not at every retry
REPLAY_SECONDS = 60.0  # for all the journals a previous run left, at start (a day of rows over a slow link takes
# longer: what is left then is its recorder's to write, and reconciliation indexes those files from a probe)


class CatalogWriter:
    def __init__(self, index: RecordingIndex, journal: CatalogJournal) -> None:
        self._index = index
        self._journal = journal
        self._waiting: deque[Row] = deque()
        self._unindexed: set[str] = set()  # paths of the segments put and not yet done with
        self._cond = threading.Condition()
        self._stopping = False
        self._busy = False
        self._catalog = CatalogAway(log, f"catalog writer (rows wait in the journal {journal.path})")
        self._retry_at = 0.0  # monotonic time of the next attempt while it is away
        self._journal_failed_said = -math.inf  # monotonic time the journal's failure was last logged
        self._thread = threading.Thread(target=self._run, name="catalog-writer", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def put(self, row: Row) -> None:
        """Queue a row; never blocks on the database or the disk."""
        with self._cond:
            if len(self._waiting) >= MAX_WAITING:
                lost = self._waiting.popleft()
                self._done_with([lost])
                log.error("catalog writer: %d rows waiting for the journal; dropped the oldest (%s)",
                          MAX_WAITING, type(lost).__name__)
            self._waiting.append(row)
            if isinstance(row, Segment):
                self._unindexed.add(row.path)
            self._cond.notify()

    def indexed(self, path: str) -> bool:
        """False while the segment at `path` is put and not yet in the catalog (nor refused by it)."""
        with self._cond:
            return path not in self._unindexed

    def flush(self, timeout: float) -> bool:
        """Wait until everything queued so far is in the catalog (True) or `timeout` passes (False)."""
        with self._cond:
            return self._cond.wait_for(lambda: self._settled() and not self._journal.pending, timeout)

    def stop(self, timeout: float = 10.0) -> bool:
        """Write what is queued to the catalog, or at least to the journal when the database is away (up to
        `timeout`), then end the thread; whether every row reached the catalog (else the next start writes what
        the journal holds)."""
        with self._cond:
            self._cond.wait_for(lambda: self._settled() and (self._catalog.away or not self._journal.pending), timeout)
            written = self._settled() and not self._journal.pending
            self._stopping = True
            self._cond.notify_all()
        self._thread.join(timeout=2)
        if not self._thread.is_alive():  # else it is stuck in a call to the database; the process is ending
            self._journal.close()
        return written

    def _settled(self) -> bool:
        return not self._waiting and not self._busy

    def _done_with(self, rows: list[Row]) -> None:
        """Rows written or dropped (the caller holds the condition's lock)."""
        self._unindexed.difference_update(row.path for row in rows if isinstance(row, Segment))

    def _run(self) -> None:
        delay = RETRY_FIRST_SECONDS
        while True:
            with self._cond:
                self._cond.wait_for(lambda: self._stopping or self._waiting or self._due(), self._wait_seconds())
                if self._stopping:
                    return
                taken = list(self._waiting)
                self._waiting.clear()
                self._busy = True
            try:
                self._to_journal(taken)
                if self._due():
                    if self._apply_journal():
                        self._catalog.answered()
                    away = self._catalog.away
                    self._retry_at = time.monotonic() + delay if away else 0.0
                    delay = min(RETRY_MAX_SECONDS, delay * 2) if away else RETRY_FIRST_SECONDS
            finally:
                with self._cond:
                    self._busy = False
                    self._cond.notify_all()

    def _due(self) -> bool:
        return bool(self._journal.pending) and time.monotonic() >= self._retry_at

    def _wait_seconds(self) -> float | None:
        return max(0.0, self._retry_at - time.monotonic()) if self._journal.pending else None

    def _to_journal(self, rows: list[Row]) -> None:
        if not rows:
            return
        try:
            self._journal.append(rows)
        except OSError as exc:  # the disk is full or failing: keep them in memory and try again later
            if time.monotonic() >= self._journal_failed_said + SAID_AGAIN_SECONDS:  # not a line every few seconds
                log.error("catalog writer: journal not written (%s); %d rows wait in memory (said again every %d "
                          "minutes while it lasts)", exc, len(rows), SAID_AGAIN_SECONDS // 60)
                self._journal_failed_said = time.monotonic()
            with self._cond:
                self._waiting.extendleft(reversed(rows))
                self._cond.wait_for(lambda: self._stopping, RETRY_MAX_SECONDS)
            return
        if self._journal_failed_said > -math.inf:
            log.info("catalog writer: the journal is written again (%d rows had waited in memory)", len(rows))
            self._journal_failed_said = -math.inf

    def _apply_journal(self, until: float = math.inf) -> bool:
        """Write the journal's rows to the catalog in order (batches begun by monotonic time `until`); False when
        the database stopped answering, or time ran out first."""
        while self._journal.pending:
            if time.monotonic() >= until:
                return False
            batch = self._journal.rows(BATCH)
            done = self._write(batch)
            self._journal.applied(done)
            with self._cond:
                self._done_with(batch[:done])
            if done < len(batch):
                return False
        return True

    def _write(self, batch: list[Row]) -> int:
        """Write rows in order; returns how many are done with (written, or refused for good)."""
        done, singly = 0, False
        while done < len(batch):
            run = _segment_run(batch, done)[:1 if singly else None]
            try:
                if run:
                    self._index.add_new_segments(run)
                else:
                    self._apply(batch[done])
            except (IntegrityError, DataError) as exc:  # this row, not the database
                if len(run) > 1:  # one by one, to find the row refused
                    singly = True
                    continue
                log.error("catalog writer: the database refused %s for good: %s", _describe(batch[done]), exc.orig)
            except SQLAlchemyError as exc:
                self._catalog.failed(exc)
                return done
            done += max(1, len(run))
        return done

    def _apply(self, row: Row) -> None:
        match row:
            case OutageStart(camera, start_ms, reason):
                self._index.open_outage(camera, start_ms, reason)
            case OutageEnd(camera, end_ms):
                self._index.close_outages(end_ms, camera)


def _segment_run(batch: list[Row], start: int) -> list[Segment]:
    """The segments in a row from `start` (written in one transaction)."""
    run: list[Segment] = []
    for row in batch[start:]:
        if not isinstance(row, Segment):
            break
        run.append(row)
    return run


def _describe(row: Row) -> str:
    return f"segment {row.path}" if isinstance(row, Segment) else f"{type(row).__name__} of {row.camera}"


def replay_journals(index: RecordingIndex, data_dir: Path, timeout: float = REPLAY_SECONDS) -> None:
    """Write what the recorders of the previous run journaled and did not write (killed, or the catalog away),
    before the recorders start and before the catalog is checked against the files: that check would index those
    files from a probe instead, with the hash of the file as it is then, not as it was recorded."""
    until = time.monotonic() + timeout
    for path in sorted((data_dir / JOURNAL_DIR).glob("recorder-*.jsonl")):
        journal = CatalogJournal(path, index.station)
        try:  # in this thread, the writer's own not started: nothing of it is left running to share the file
            if not CatalogWriter(index, journal)._apply_journal(until):
                log.warning("catalog journal %s: not all of it written at start; its recorder writes the rest",
                            path.name)
        finally:
            journal.close()
