"""`nvr run`: start the station and serve its API until interrupted."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import uvicorn
from fastapi import FastAPI

from api.app import create_app
from nvr.config import Config
from nvr.logs import setup_logging
from nvr.station import Station

log = logging.getLogger(__name__)


def serve(config: Config, *, log_level: str = "INFO") -> None:
    setup_logging(log_level)
    station = Station(config)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        # Stopping here, not after uvicorn returns: uvicorn re-raises SIGTERM once it has shut down,
        # and the last segment of every camera must be closed and indexed before that.
        await asyncio.to_thread(station.start)
        log.info("station %s: recording %d cameras into %s; API on http://%s:%d", station.index.station,
                 len(station.cameras), config.data_dir, config.server.host, config.server.port)
        try:
            yield
        finally:
            await asyncio.to_thread(station.stop)
            log.info("stopped; every open segment was closed and indexed")

    uvicorn.run(create_app(station, lifespan), host=config.server.host, port=config.server.port,
                log_config=None, log_level=log_level.lower())
