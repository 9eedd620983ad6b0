"""A thread that reads the catalog every few seconds says once that the database stopped answering, and once
that it is back, rather than a traceback at every try: a post's link to the district's PostgreSQL may be
down for hours."""

from __future__ import annotations

import logging

from sqlalchemy.exc import SQLAlchemyError

from storage.disk_space import is_disk_full

RETRY_FIRST_SECONDS, RETRY_MAX_SECONDS = 0.5, 5.0  # the wait before trying again, doubling up to the most


class CatalogAway:
    def __init__(self, log: logging.Logger, what: str) -> None:
        self._log = log
        self._what = what
        self.away = False

    def failed(self, exc: SQLAlchemyError) -> None:
        if not self.away:
            if is_disk_full(exc):
                self._log.warning("%s: the catalog cannot write: its disk is full; trying again until it can",
                                  self._what)
            else:
                self._log.warning("%s: the catalog does not answer (%s); trying again until it does", self._what,
                                  type(exc).__name__)
            self.away = True

    def answered(self) -> None:
        if self.away:
            self._log.info("%s: the catalog answers again", self._what)
            self.away = False
