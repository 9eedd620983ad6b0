"""Shared fixtures: real PostgreSQL, real RTSP cameras, and stations built from small configs."""

from __future__ import annotations

import io
import logging
import os
import time
from collections.abc import Callable, Iterator
from functools import partial
from pathlib import Path
from typing import Any, TypeVar, cast

import pytest
import yaml
from argon2 import PasswordHasher

from nvr.config import DEMO_DIR_VARIABLE, Config, parse_config
from nvr.logs import REDACTING_FILTER, URL_LOGGERS, setup_logging
from storage import accounts
from tests.support.postgres import PostgresServer
from tests.support.rtsp import RtspServer

T = TypeVar("T")
OPERATOR, OPERATOR_PASSWORD = "duty", "duty-officer-pass"
os.environ.setdefault("NVR_ADMIN_PASSWORD", "admin-test-password")
# the demo scenes rendered once for every test (each start renders one into an empty folder: 9 CPU-s apiece), kept
# between runs; rendering is serialised by a lock file, so the test processes share it safely
os.environ.setdefault(DEMO_DIR_VARIABLE, str(Path(__file__).resolve().parent.parent / ".cache" / "demo-videos"))


def wait_for(condition: Callable[..., T], timeout: float, what: str, interval: float = 0.1) -> T:
    """Poll `condition` until it returns something truthy; fail with `what` after `timeout` seconds."""
    # Callable[..., T], not Callable[[], T]: mypy cannot infer `lambda n=name: ...` against the latter
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(interval)


class ManualClock:
    """Monotonic seconds that move only when a test moves them: waits are shown without waiting."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture(autouse=True, scope="session")
def quick_password_hashes() -> Iterator[None]:
    """Argon2id at a small cost in this process's stations. At the station's own (64 MiB, 3 passes, 4 lanes) a
    hash is about 0.35 CPU-s and a check 0.2, and nearly every station a test starts adds a user and logs in
    (test_auth and test_events_api spent 17 of their 60 CPU-s on it).
    `test_auth.py::test_passwords_are_hashed_at_full_strength` checks the station's own cost; `nvr run` in a
    subprocess keeps it too."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(accounts, "PasswordHasher", partial(PasswordHasher, time_cost=1, memory_cost=64, parallelism=1))
        yield


@pytest.fixture(scope="session")
def cameras() -> Iterator[RtspServer]:
    """Two live H.264 cameras (320x240 at 15 fps, a keyframe a second) shared by the tests that only watch."""
    with RtspServer(["cam0", "cam1"]) as server:
        yield server


@pytest.fixture(scope="session")
def scene_cameras(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RtspServer]:
    """Pre-encoded synthetic streets served over RTSP (640x360 at 15 fps, 24 s, each client from the start):
    `xe-may`, a shopfront where a motorbike crosses from 8 s; `yen-tinh`, an alley where nothing moves."""
    from ingest.demo import encode
    from tests.support.media import motorbike_scene, quiet_scene

    folder = tmp_path_factory.mktemp("scenes")
    files = {"xe-may": folder / "xe-may.mp4", "yen-tinh": folder / "yen-tinh.mp4"}
    encode(motorbike_scene(seconds=24.0, enters=(8.0,)), files["xe-may"])
    encode(quiet_scene(seconds=24.0), files["yen-tinh"])
    with RtspServer([], files=files) as server:
        yield server


@pytest.fixture(scope="session")
def postgres() -> Iterator[PostgresServer]:
    with PostgresServer() as server:
        yield server


_db_counter = iter(range(1_000_000))


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A fresh, empty database of each kind."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'index.db'}"
    server: PostgresServer = request.getfixturevalue("postgres")
    name = f"t{next(_db_counter)}_{int(time.time() * 1000) % 1_000_000}"
    server.create_database(name)
    return server.url(name)


def station_config(tmp_path: Path, cameras: list[dict[str, Any]], **overrides: Any) -> Config:
    """A config for tests: short segments, fast reconnects, no free-space floor, one recorder process (a test's
    few cameras need no more, and each recorder costs about 1.5 CPU-s to start; tests of sharding set more)."""
    raw: dict[str, Any] = {
        "data_dir": str(tmp_path / "data"),
        "runtime": {"recorder_processes": 1},
        "storage": {"segment_seconds": 2, "min_free_bytes": 0, "retention_check_seconds": 3600},
        "ingest": {"connect_timeout_seconds": 3, "read_timeout_seconds": 3, "reconnect_min_seconds": 0.2,
                   "reconnect_max_seconds": 1.0},
        "cameras": cameras,
    }
    for key, value in overrides.items():
        raw[key] = {**raw.get(key, {}), **value} if isinstance(value, dict) else value
    return parse_config(yaml.safe_dump(raw), base=tmp_path)


def start_station(config: Config, started: list[Any]) -> tuple[Any, Any]:
    """A started station (appended to `started`, for the caller to stop) and an API client logged in as an
    operator (who sees every camera)."""
    from fastapi.testclient import TestClient

    from api.app import create_app
    from nvr.station import Station

    station = Station(config)
    station.start()
    started.append(station)
    assert station.wait_ready(30), "the recorder processes did not come up"
    station.accounts.add(OPERATOR, OPERATOR_PASSWORD, "operator")
    client = TestClient(create_app(station))
    token = client.post("/api/auth/login", json={"username": OPERATOR, "password": OPERATOR_PASSWORD})
    client.headers["Authorization"] = f"Bearer {token.json()['token']}"
    return station, client


@pytest.fixture
def make_station() -> Iterator[Callable[[Config], Any]]:
    """Start stations (and their API test clients); everything stops at teardown."""
    started: list[Any] = []
    yield lambda config: start_station(config, started)
    for station in started:
        station.stop()


@pytest.fixture
def logged() -> Iterator[io.StringIO]:
    """The station's logging as `nvr run` sets it up (one redacting handler on the root logger), writing
    into the buffer yielded; undone afterwards."""
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    setup_logging("INFO")
    buffer = io.StringIO()
    cast(logging.StreamHandler, root.handlers[0]).setStream(buffer)
    try:
        yield buffer
    finally:
        root.handlers[:], root.level = handlers, level
        for name in URL_LOGGERS:
            logging.getLogger(name).removeFilter(REDACTING_FILTER)
