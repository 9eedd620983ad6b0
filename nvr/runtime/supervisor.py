"""`nvr run`: the supervisor. It prepares the catalog, then runs the recorder processes and the station
process (API and detection), restarts whichever dies, and stops them in order on SIGTERM or Ctrl-C.
The station process's entry point is a parameter: it is the composition root's (nvr/commands/run.py),
which builds the API; the core does not import it."""

from __future__ import annotations

import logging
import secrets
import signal
import socket
import time
from collections.abc import Callable

from sqlalchemy.exc import SQLAlchemyError

from nvr.config import Config
from nvr.logs import setup_logging
from nvr.runtime.private_files import keep_private
from nvr.runtime.process_pool import ProcessPool
from nvr.runtime.recorders import RECORDER_MODULES, add_recorders
from nvr.runtime.shards import recorder_count
from nvr.runtime.startup import prepare_catalog
from nvr.runtime.stop_request import StopRequest
from nvr.station_identity import station_id
from storage.accounts import AccountError, AccountStore
from storage.catalog_failure import catalog_failure
from storage.catalog_journal import adopt_orphans
from storage.disk_space import is_disk_full
from storage.index import RecordingIndex
from storage.reserve import RESERVE_FILE, SpaceReserve
from storage.start_room import catalog_locks, make_room_to_start

log = logging.getLogger(__name__)
STATION_PROCESS = "station"
StationMain = Callable[[Config, bytes, str], None]  # (config, the recorders' authkey, log level), in a child process


class ServeError(Exception):
    """The service cannot start; the message says why."""


def serve(config: Config, station_main: StationMain, *, log_level: str = "INFO") -> None:
    setup_logging(log_level)
    keep_private(config.sqlite_file)
    _check_port(config)
    make_room_to_start(SpaceReserve(config.data_dir / RESERVE_FILE, config.storage.reserve_bytes),
                       config.segments_dir, catalog_locks(config.database_url, station_id(config)))
    try:
        index = RecordingIndex(config.database_url, station_id(config))  # opening the index writes
        try:
            prepare_catalog(config, index, AccountStore(index))
        finally:
            index.close()
    except AccountError as exc:
        raise ServeError(f"the first administrator cannot be created: {exc}") from None
    except SQLAlchemyError as exc:
        if is_disk_full(exc):
            raise ServeError("the catalog cannot be written: the disk under it is full (nothing an open case locks "
                             "was deleted); free space there, or close a case whose footage fills the disk, and start "
                             "again") from None
        # a district's PostgreSQL away at boot, or a damaged catalog file: the station exited, and recorded nothing
        # until the catalog was back or mended (an audit); the recorders record without it (design/district.md)
        log.error("the catalog does not answer at start (%s): the cameras it gave last are recorded, their rows wait "
                  "in the recorders' journals, and the API starts once it answers; mend or restore it if it is "
                  "damaged", catalog_failure(exc))
    authkey = secrets.token_bytes(32)
    recorders = recorder_count(config)
    adopt_orphans(config.data_dir, recorders, station_id(config))
    # the recorders' modules only: the station process starts once, and with the application's modules the fork
    # server held 84 MB (PSS) where it holds 44 (design/runtime.md)
    pool = ProcessPool(preload=RECORDER_MODULES)
    add_recorders(pool, config, recorders, authkey, log_level)
    pool.add(STATION_PROCESS, station_main, config, authkey, log_level)
    # SIGHUP too: the terminal `nvr run` was started from closed, which ended the supervisor with no line in its log
    asked = StopRequest((signal.SIGTERM, signal.SIGINT, signal.SIGHUP))
    pool.start()
    log.info("station %s: %d recorder processes recording into %s; API on http://%s:%d", station_id(config),
             recorders, config.data_dir, config.server.host, config.server.port)
    while not asked.stop:
        time.sleep(0.2)
    log.info("stopping (%s)", signal.Signals(asked.signal).name)
    pool.stop(first=(STATION_PROCESS,))
    log.info("stopped; every open segment was closed (the recorders said whether the catalog has them all)")


def _check_port(config: Config) -> None:
    """Refuse at once when the API's port is taken, instead of restarting the station process forever."""
    family = socket.AF_INET6 if ":" in config.server.host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((config.server.host, config.server.port))
        except OSError as exc:
            raise ServeError(f"cannot listen on {config.server.host}:{config.server.port}: {exc.strerror}") from None
