"""`nvr run`'s composition root: the station process's entry point, which puts the API on the station core.
The supervisor (nvr/runtime/supervisor.py) starts it by reference, so it must stay importable here; the
application is imported in the station process only (the supervisor that imports this module held 40 MB and a
CPU-second more when it was imported here)."""

from __future__ import annotations

import asyncio
import logging
import os
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, TypedDict, TypeVar

from sqlalchemy.exc import SQLAlchemyError

from nvr.config import Config, ServerConfig
from nvr.logs import setup_logging
from nvr.runtime.parent_watch import exit_with_parent
from storage.catalog_failure import catalog_failure

if TYPE_CHECKING:
    from fastapi import FastAPI

# At a stop, answers still streaming this long after are cut: a live MP4 never ends by itself, and uvicorn
# would otherwise wait for it (and for a long clip download) until the supervisor kills the process.
STREAMS_CUT_SECONDS = 5
T = TypeVar("T")
log = logging.getLogger(__name__)
CATALOG_RETRY_SECONDS = 5.0  # how often the station process asks a catalog away at start again


def station_main(config: Config, authkey: bytes, log_level: str) -> None:
    """Entry point of the station process: the API and detection, on the recorders' frames."""
    import uvicorn

    from api.app import create_app
    from nvr.station import Station

    exit_with_parent()
    os.setpgrp()  # signals come from the supervisor, not from the terminal's process group
    os.nice(config.runtime.station_nice)  # recording first when the cores are short (design/runtime.md)
    setup_logging(log_level)
    station = station_when_the_catalog_answers(lambda: Station(config, authkey=authkey))

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        await asyncio.to_thread(station.start)
        try:
            yield
        finally:
            await asyncio.to_thread(station.stop)

    uvicorn.run(create_app(station, lifespan), host=config.server.host, port=config.server.port,
                log_config=None, log_level=log_level.lower(), timeout_graceful_shutdown=STREAMS_CUT_SECONDS,
                **forwarding(config.server))


def station_when_the_catalog_answers(make: Callable[[], T]) -> T:
    """The station, once its catalog answers: a catalog away at start (a district's PostgreSQL) or damaged ended this
    process with a traceback of a hundred lines at every restart. The recorders record meanwhile."""
    said = False
    while True:
        try:
            return make()
        except SQLAlchemyError as exc:
            if not said:
                log.error("the catalog does not answer (%s): the API and detection start once it does; the cameras "
                          "record meanwhile", catalog_failure(exc))
                said = True
            time.sleep(CATALOG_RETRY_SECONDS)


class Forwarding(TypedDict):
    proxy_headers: bool
    forwarded_allow_ips: list[str]


def forwarding(server: ServerConfig) -> Forwarding:
    """uvicorn's options for X-Forwarded-For and -Proto: believed only from `server.trusted_proxies`
    (uvicorn's defaults believe them from any local process, or from whatever FORWARDED_ALLOW_IPS says)."""
    return {"proxy_headers": bool(server.trusted_proxies), "forwarded_allow_ips": server.trusted_proxies}
