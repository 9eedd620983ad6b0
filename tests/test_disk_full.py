"""A disk filled by another program under a running station: recording goes on at the cost of the oldest
footage only, `nvr run` starts on a full disk, and recording and its status recover once space returns."""

from __future__ import annotations

import signal
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
import yaml
from fastapi.testclient import TestClient

from storage.disk_space import free_bytes
from storage.index import RecordingIndex, Segment
from storage.probe import probe_segment
from storage.reserve import RESERVE_FILE
from tests.conftest import station_config, wait_for
from tests.support.disk import fill_disk, small_disk
from tests.support.media import encode_video
from tests.support.rtsp import free_port
from tests.test_crash_recovery import _healthy, start_nvr
from tests.test_metrics import ADMIN_PASSWORD, login, parse, value

# Their assertions are about pace and time: `make test` runs them alone, after the parallel tests.
pytestmark = pytest.mark.solo

MB = 1 << 20
CAMERAS = ("cam0", "cam1")


@pytest.fixture(scope="module")
def camera_video(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """10 s of 640x360 at 4 Mbit/s: each camera writes about 0.5 MB a second."""
    return encode_video(tmp_path_factory.mktemp("media") / "camera.mp4", seconds=10, size="640x360",
                        bitrate="4M")


@pytest.fixture
def disk(tmp_path: Path) -> Iterator[Path]:
    with small_disk(tmp_path / "disk", 48) as mounted:
        yield mounted


def segments(index: RecordingIndex) -> list[Segment]:
    return sorted(index.all_segments(), key=lambda s: s.start_ms)


def recording_since(index: RecordingIndex, since_ms: int) -> bool:
    """Every camera has a segment indexed that started after `since_ms`."""
    return all(any(s.start_ms > since_ms for s in index.segments(c, since_ms, 2**62)) for c in CAMERAS)


def test_recording_continues_on_a_full_disk_and_nvr_run_starts_on_one(tmp_path: Path, disk: Path,
                                                                       camera_video: Path) -> None:
    port = free_port()
    config_path = tmp_path / "config.yaml"
    config_path.write_text(yaml.safe_dump({
        "data_dir": str(disk / "data"),
        "station": {"id": "disk-test"},
        "server": {"host": "127.0.0.1", "port": port},
        "storage": {"segment_seconds": 2, "min_free_bytes": MB, "reserve_bytes": MB,
                    "retention_check_seconds": 3600},  # only the fast free-space check may act
        "cameras": [{"name": name, "record_url": f"file://{camera_video}"} for name in CAMERAS],
    }))
    log = tmp_path / "nvr.log"
    reserve = disk / "data" / RESERVE_FILE
    index = RecordingIndex(f"sqlite:///{disk / 'data' / 'nvr.db'}", "disk-test")
    seen: dict[str, Segment] = {}

    @contextmanager
    def running() -> Iterator[None]:
        process = start_nvr(config_path, log)
        try:
            wait_for(lambda: _healthy(port), 20, "the API")
            yield
            seen.update((s.path, s) for s in segments(index))
        finally:
            process.send_signal(signal.SIGTERM)
            process.wait(30)
        assert process.returncode in (0, -signal.SIGTERM), log.read_text()[-3000:]

    with running():
        # footage enough that what the fills leave of it is above the floor whatever the pace: below it, retention
        # rightly keeps what it has and the cameras wait for room (tests/test_retention.py)
        wait_for(lambda: sum(s.bytes for s in segments(index)) >= 12 * MB and reserve.exists(), 40,
                 "footage and the space reserve")
        before_fill = {s.path for s in segments(index)}
        fill_disk(disk / "filler-1")  # while the station runs: it must go on recording into room made
        filled_ms = round(time.time() * 1000)
        wait_for(lambda: recording_since(index, filled_ms) and free_bytes(disk) >= MB // 2 and reserve.exists(),
                 15, "recording to go on after the disk filled")
    assert before_fill - {s.path for s in segments(index)}, "room was made by evicting footage"

    fill_disk(disk / "filler-2")  # while the station is stopped: it must still start
    assert free_bytes(disk) == 0
    started_ms = round(time.time() * 1000)
    with running():
        wait_for(lambda: recording_since(index, started_ms) and reserve.exists(), 20, "recording after a full start")

    text = log.read_text()
    assert "retention pass failed" not in text and "Application startup failed" not in text, text[-3000:]
    kept = segments(index)
    folder = disk / "data" / "segments"
    on_disk = {p.relative_to(folder).as_posix() for p in folder.rglob("*.mp4")}
    assert on_disk == {s.path for s in kept}, "every file indexed, every row has its file"
    for segment in kept:
        assert probe_segment(disk / "data" / "segments" / segment.path).packets > 0, segment.path
    evicted = [seen[path] for path in set(seen) - on_disk]
    assert max(s.start_ms for s in evicted) <= min(s.start_ms for s in kept), "only the oldest footage was lost"
    index.close()


def test_camera_status_says_disk_full_and_recording_resumes_when_space_returns(
        tmp_path: Path, disk: Path, camera_video: Path, make_station: Callable[..., Any]) -> None:
    # No free-space floor and no reserve: nothing is evicted, so the disk stays full until the filler goes.
    config = station_config(tmp_path, [{"name": "cam0", "record_url": f"file://{camera_video}"}],
                            data_dir=str(disk / "data"), storage={"reserve_bytes": 0})
    station, client = make_station(config)
    wait_for(lambda: station.index.segments("cam0", 0, 2**62), 15, "footage")
    assert client.get("/api/cameras/cam0").json()["recording_error"] is None

    admin = TestClient(client.app, headers={"Authorization": f"Bearer {login(client, 'admin', ADMIN_PASSWORD)}"})

    def failing() -> tuple[int, float]:
        """What /api/health and /metrics say of cameras whose recordings cannot be written (their streams flow)."""
        metric = value(parse(admin.get("/metrics").text), "nvr_camera_recording_failed", camera="cam0")
        return client.get("/api/health").json()["recording_failed"], metric

    assert failing() == (0, 0.0)
    fill_disk(disk / "filler")
    wait_for(lambda: client.get("/api/cameras/cam0").json()["recording_error"] == "cannot write recordings: disk full",
             10, "the camera to say it cannot record")
    assert failing() == (1, 1.0) and client.get("/api/health").json()["online"] == 1
    usage = client.get("/api/storage").json()
    assert usage["free_bytes"] < MB and usage["cameras"][0]["name"] == "cam0" and usage["cameras"][0]["bytes"] > 0

    (disk / "filler").unlink()
    returned_ms = round(time.time() * 1000)
    wait_for(lambda: client.get("/api/cameras/cam0").json()["recording_error"] is None, 10, "the error to clear")
    assert failing() == (0, 0.0)
    wait_for(lambda: station.index.segments("cam0", returned_ms, 2**62), 10, "new footage indexed")
    files = {p.relative_to(config.segments_dir).as_posix() for p in config.segments_dir.rglob("*.mp4")}
    wait_for(lambda: files - {s.path for s in station.index.segments("cam0", 0, 2**62)} <= _live_path(station),
             10, "segments written while the index could not write to be indexed")


def _live_path(station: Any) -> set[str]:
    report = station.report("cam0")
    live = report.in_progress if report else None
    return {live.path} if live else set()


def test_storage_is_for_operators_and_admins_not_households(tmp_path: Path, camera_video: Path,
                                                            make_station: Callable[..., Any]) -> None:
    station, client = make_station(station_config(tmp_path, [{"name": "cam0", "record_url": f"file://{camera_video}"}]))
    wait_for(lambda: station.index.segments("cam0", 0, 2**62), 15, "footage")
    usage = client.get("/api/storage")
    assert usage.status_code == 200, usage.text
    body = usage.json()
    assert body["total_bytes"] >= body["free_bytes"] > 0 and body["reserve"]["bytes"] == 32_000_000
    assert body["clock_steps"] == []  # the station read its clock (boot id, time since boot) and saw no step
    cam0 = body["cameras"][0]
    assert cam0["bytes"] > 0 and cam0["segments"] >= 1 and 0 < cam0["recorded_days"] <= cam0["days_kept"] < 1
    station.accounts.add("nha-so-5", "household-pass", "viewer")
    station.accounts.grant("nha-so-5", ["cam0"])
    token = client.post("/api/auth/login", json={"username": "nha-so-5", "password": "household-pass"}).json()["token"]
    assert client.get("/api/storage", headers={"Authorization": f"Bearer {token}"}).status_code == 403
