"""The catalog (the database) not answering, as an answer: 503 with `Retry-After: 5` and one log line, never
a 500 with a traceback; and a value it cannot store (PostgreSQL refuses text with a NUL character) as a 400.
A post whose link to the district's PostgreSQL is down goes on recording into its
journals (design/district.md); the district server, on the same catalog, can only wait for it."""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DataError, OperationalError

from storage.disk_space import is_disk_full

log = logging.getLogger(__name__)
CATALOG_DISK_FULL = ("the catalog (database) cannot write: the disk under it is full; free space there (or close a "
                     "case whose footage fills it); recording stops rather than delete what cases lock")
VALUE_REFUSED = "a value the catalog cannot store (text may not hold a NUL or other control character)"


def answer_catalog_away(app: FastAPI, detail: str) -> None:
    """What raises OperationalError in `app`'s routes answers 503 with `detail`; DataError answers 400."""

    async def catalog_away(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, OperationalError)
        if is_disk_full(exc):  # it answers, but cannot write: a different remedy
            log.warning("%s %s: the catalog cannot write: its disk is full", request.method, request.url.path)
            return JSONResponse({"detail": CATALOG_DISK_FULL}, status_code=503, headers={"Retry-After": "5"})
        log.warning("%s %s: the catalog does not answer (%s)", request.method, request.url.path,
                    type(exc.orig).__name__ if exc.orig is not None else type(exc).__name__)
        return JSONResponse({"detail": detail}, status_code=503, headers={"Retry-After": "5"})

    app.add_exception_handler(OperationalError, catalog_away)

    async def value_refused(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, DataError)
        # the driver's message may quote the value (a password, a camera URL): only its kind is logged
        log.warning("%s %s: the catalog refused a value (%s)", request.method, request.url.path,
                    type(exc.orig).__name__ if exc.orig is not None else type(exc).__name__)
        return JSONResponse({"detail": VALUE_REFUSED}, status_code=400)

    app.add_exception_handler(DataError, value_refused)
