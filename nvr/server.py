"""`nvr run`: start the station and serve its API until interrupted."""

from __future__ import annotations

import logging

import uvicorn

from api.app import create_app
from nvr.config import Config
from nvr.logs import setup_logging
from nvr.station import Station

log = logging.getLogger(__name__)


def serve(config: Config, *, log_level: str = "INFO") -> None:
    setup_logging(log_level)
    station = Station(config)
    station.start()
    log.info("recording %d cameras into %s; API on http://%s:%d", len(station.cameras), config.data_dir,
             config.server.host, config.server.port)
    try:
        server = uvicorn.Server(uvicorn.Config(create_app(station), host=config.server.host,
                                               port=config.server.port, log_config=None,
                                               log_level=log_level.lower()))
        server.run()
    finally:
        station.stop()
