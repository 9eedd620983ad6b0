"""The retention thread: a free-space check every second, the full age pass every few minutes.

The full pass (age, events, byte quota) queries the index and runs every `full_pass_seconds`
(storage.retention_check_seconds); in between, one statvfs a second notices a disk filling up
(recordings, or another program) and evicts the oldest footage before writes fail.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

from sqlalchemy.exc import SQLAlchemyError

from storage.catalog_away import CatalogAway
from storage.retention import Retention

log = logging.getLogger(__name__)
CHECK_SECONDS = 1.0


class SpaceWatch:
    def __init__(self, retention: Retention, full_pass_seconds: float, now_ms: Callable[[], int],
                 check_seconds: float = CHECK_SECONDS) -> None:
        self._retention = retention
        self._full_pass_seconds = full_pass_seconds
        self._check_seconds = check_seconds
        self._now_ms = now_ms
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="retention", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=10)

    def _run(self) -> None:
        next_full_pass = time.monotonic()
        away = CatalogAway(log, "retention")
        while not self._stop.is_set():
            try:
                if time.monotonic() >= next_full_pass:
                    next_full_pass = time.monotonic() + self._full_pass_seconds
                    self._retention.enforce(self._now_ms())
                    away.answered()
                elif self._retention.needs_room():
                    self._retention.make_room()
                    away.answered()
            except SQLAlchemyError as exc:
                away.failed(exc)
            except Exception:
                log.exception("retention pass failed; retrying")
            self._stop.wait(self._check_seconds)
