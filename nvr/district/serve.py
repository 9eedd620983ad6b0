"""`nvr district --config district.yaml`: the district server in one process."""

from __future__ import annotations

import uvicorn

from nvr.commands.run import STREAMS_CUT_SECONDS, forwarding
from nvr.config import DISTRICT_STATION
from nvr.district.app import create_district_app
from nvr.district.catalog import DistrictCatalog
from nvr.district.config import DistrictConfig
from nvr.district.reachability import Reachability
from nvr.district.state import District
from nvr.district.status import StatusBoard
from nvr.logs import setup_logging
from storage.accounts import AccountStore
from storage.audit import AuditLog
from storage.index import RecordingIndex
from storage.schema import HEAD_REVISION


def serve_district(config: DistrictConfig, log_level: str = "INFO") -> None:
    setup_logging(log_level)
    config.data_dir.mkdir(parents=True, exist_ok=True)
    url = config.database.url
    assert url is not None  # the configuration requires it
    catalog = DistrictCatalog(url)
    revision, needed = catalog.schema_revision(), HEAD_REVISION
    if revision is None or revision < needed:  # revisions are numbered 0001, 0002, ...
        catalog.close()
        raise SystemExit(f"the shared catalog is at schema revision {revision}, this district server needs "
                         f"{needed} (its case tables): start a post of this release, or run `nvr migrate` there")
    index = RecordingIndex(url, DISTRICT_STATION, migrate=False, engine=catalog.engine)  # the posts migrate it
    board = StatusBoard(config.mqtt, {s.id: s.prefix for s in config.stations}) if config.mqtt else None
    district = District(config, catalog, AccountStore(index), AuditLog(index), board, Reachability(config.stations))
    try:
        # X-Forwarded-For only from `server.trusted_proxies`, as at a post (an audit: uvicorn's default believed any
        # local process, which could forge the audit's address and escape the login throttle)
        uvicorn.run(create_district_app(district), host=config.server.host, port=config.server.port,
                    log_config=None, log_level=log_level.lower(), timeout_graceful_shutdown=STREAMS_CUT_SECONDS,
                    **forwarding(config.server))
    finally:
        catalog.close()
