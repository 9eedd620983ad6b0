"""Detection's motion grids go to the catalog from a thread of their own, in batches every FLUSH_SECONDS: a
slow or unreachable database never holds up a tick, and 64 moving cameras cost one transaction, not 64
a second. Seconds a failed batch held are written with the next one (merging is an OR: nothing doubles)."""

from __future__ import annotations

import logging
import threading

from detect.motion_grid import MotionSecond
from storage.motion_grids import MotionGridStore

log = logging.getLogger(__name__)
FLUSH_SECONDS = 2.0
MAX_WAITING = 100_000  # camera-seconds held while the database is away (64 busy cameras: 26 minutes)


class MotionGridWriter:
    def __init__(self, store: MotionGridStore, flush_seconds: float = FLUSH_SECONDS) -> None:
        self._store = store
        self._flush_seconds = flush_seconds
        self._lock = threading.Lock()
        self._waiting: list[MotionSecond] = []
        self._dropping = False  # told the log that seconds are being dropped
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="motion-grid-writer", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def put(self, seconds: list[MotionSecond]) -> None:
        """Queue finished seconds; never waits."""
        if seconds:
            self._keep(seconds)

    def stop(self, timeout: float = 10.0) -> None:
        """Write what is waiting (up to `timeout`), then end the thread."""
        self._stop.set()
        self._thread.join(timeout)

    def _run(self) -> None:
        while not self._stop.wait(self._flush_seconds):
            self._flush()
        self._flush()

    def _flush(self) -> None:
        with self._lock:
            batch, self._waiting = self._waiting, []
        if not batch:
            return
        try:
            self._store.add(batch)
        except Exception:  # the database is away, or a bug: keep the seconds for the next batch
            log.exception("motion grids: could not store %d camera-seconds; trying again", len(batch))
            self._keep(batch)

    def _keep(self, seconds: list[MotionSecond]) -> None:
        with self._lock:
            room = MAX_WAITING - len(self._waiting)
            self._waiting += seconds[:room]
            dropped = len(seconds) - room
            if dropped > 0 and not self._dropping:
                log.error("motion grids: %d camera-seconds wait for the database; dropping what does not fit",
                          MAX_WAITING)
            self._dropping = dropped > 0
