"""32 RTSP cameras recorded and detected while the API is kept busy: recording keeps camera pace and the
index shows no gap (before the recorders had processes of their own, ingest fell to 6 fps and every
camera showed a false 15 s gap, stamped 15-20 s late)."""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import station_config, wait_for
from tests.support.media import encode_video
from tests.support.rtsp import RtspServer

# Their assertions are about pace and time: `make test` runs them alone, after the parallel tests.
pytestmark = pytest.mark.solo

CAMERAS = 32
REQUESTS, AT_ONCE = 2000, 10


@pytest.fixture(scope="module")
def street(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """90 s of 640x360 at 15 fps, served to every camera from its start."""
    return encode_video(tmp_path_factory.mktemp("load") / "street.mp4", seconds=90, size="640x360", gop=15)


def _late_ms(station: Any, name: str) -> int | None:
    """How long before a second ago the camera's recordings end as the station shows them (indexed, closing or
    in progress); None if it shows none in the last minute."""
    now_ms = round(time.time() * 1000)
    shown = station.segments(name, now_ms - 60_000, 2**62)
    return now_ms - 1000 - max(segment.end_ms for segment in shown) if shown else None


def hammer(client, names: list[str], stop: threading.Event, done: list[int], failures: list[str]) -> None:
    paths = ["/api/cameras", "/api/health", "/api/events?limit=50"]
    k = 0
    while not stop.is_set() and sum(done) < REQUESTS:
        path = paths[k % 3] if k % 4 else f"/api/cameras/{names[k % len(names)]}/recordings"
        k += 1
        response = client.get(path)
        if response.status_code != 200:
            failures.append(f"{path}: {response.status_code}")
        done.append(1)


def test_32_cameras_under_api_load_keep_camera_pace_with_no_gap(street: Path, tmp_path: Path, make_station) -> None:
    names = [f"cam{k:02d}" for k in range(CAMERAS)]
    with RtspServer([], files=dict.fromkeys(names, street)) as server:
        config = station_config(tmp_path, [{"name": n, "record_url": server.url(n)} for n in names],
                                storage={"segment_seconds": 4}, runtime={"recorder_processes": None})  # one per core
        station, client = make_station(config)
        wait_for(lambda: all(station.report(n) and station.report(n).record.state == "online" for n in names), 30,
                 "every camera online")
        began_ms = round(time.time() * 1000) + 2000
        stop = threading.Event()
        done: list[int] = []
        failures: list[str] = []
        threads = [threading.Thread(target=hammer, args=(client, names, stop, done, failures)) for _ in range(AT_ONCE)]
        started = time.monotonic()
        for thread in threads:
            thread.start()
        try:
            for thread in threads:
                thread.join(120)
        finally:
            stop.set()
        load_seconds = time.monotonic() - started
        assert not failures, failures[:5]
        assert sum(done) >= REQUESTS

        end_ms = round(time.time() * 1000) - 1000
        for name in names:
            report = station.report(name)
            assert report is not None and report.record.fps >= 13.5, (name, report)
            # also between two segments, while the old one closes and waits for the catalog
            late_ms = _late_ms(station, name)
            assert late_ms is not None and late_ms < 2500, f"{name} recording is late: {late_ms} ms"
        wait_for(lambda: all(station.index.segments(n, end_ms, 2**62) for n in names), 20, "segments past the load")
        for name in names:
            listing = client.get(f"/api/cameras/{name}/recordings",
                                 params={"start": began_ms / 1000, "end": end_ms / 1000}).json()
            assert listing["gaps"] == [], (name, listing)
            recorded = sum(s.end_ms - s.start_ms for s in station.index.segments(name, began_ms, end_ms))
            assert recorded >= 0.9 * (end_ms - began_ms), name
        print(f"{REQUESTS} requests in {load_seconds:.1f} s ({sum(done) / load_seconds:.0f}/s)")
