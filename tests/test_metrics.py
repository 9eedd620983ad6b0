"""`GET /metrics` on a station recording real RTSP cameras: who may read it, and what it says."""

from __future__ import annotations

import math
import os
import time
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families

from ingest.urls import redact_text
from tests.conftest import station_config, wait_for
from tests.support.rtsp import RtspServer

KEY = "metrics-key-5f1c9a2e7d40b3"
ADMIN_PASSWORD = os.environ["NVR_ADMIN_PASSWORD"]
PER_CAMERA = ("nvr_camera_enabled", "nvr_camera_up", "nvr_camera_recording_failed", "nvr_camera_fps",
              "nvr_camera_bitrate_bits_per_second",
              "nvr_camera_last_frame_age_seconds", "nvr_camera_recorded_bytes_total",
              "nvr_camera_segments_written_total", "nvr_camera_reconnects_total", "nvr_camera_footage_days")

Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


def parse(text: str) -> Samples:
    """Every sample of a scrape, by name and labels, read with the Prometheus client's own parser."""
    return {(sample.name, frozenset(sample.labels.items())): sample.value
            for family in text_string_to_metric_families(text) for sample in family.samples}


def value(samples: Samples, name: str, **labels: str) -> float:
    """The sample's value; NaN when the scrape has none (every comparison with it is false)."""
    return samples.get((name, frozenset(labels.items())), math.nan)


def has(samples: Samples, name: str, **labels: str) -> bool:
    return (name, frozenset(labels.items())) in samples


def scrape(client, token: str | None = None) -> Samples:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    answer = client.get("/metrics", headers=headers)
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"].startswith("text/plain")
    return parse(answer.text)


def login(client, username: str, password: str) -> str:
    """A token, from a client of its own (the login's cookie must not stick to `client`)."""
    answer = TestClient(client.app).post("/api/auth/login", json={"username": username, "password": password})
    return answer.json()["token"]


@pytest.fixture
def recording(cameras: RtspServer, tmp_path: Path, make_station):
    config = station_config(tmp_path, [{"name": "cam0", "record_url": cameras.url("cam0")},
                                       {"name": "cam1", "record_url": cameras.url("cam1")},
                                       {"name": "spare", "record_url": cameras.url("cam1"), "enabled": False}],
                            metrics={"key": KEY})
    station, client = make_station(config)
    for name in ("cam0", "cam1"):
        wait_for(lambda n=name: station.index.segments(n, 0, 2**62), 20, f"footage of {name}")
    return station, client


def test_metrics_are_for_administrators_and_the_key_holder(recording) -> None:
    station, client = recording
    anonymous = TestClient(client.app)
    assert anonymous.get("/metrics").status_code == 401
    assert anonymous.get("/metrics", headers={"Authorization": f"Bearer {KEY}x"}).status_code == 401
    assert client.get("/metrics").status_code == 403, "an operator is not an administrator"
    station.accounts.add("nha-so-5", "household-pass", "viewer")
    viewer = login(client, "nha-so-5", "household-pass")
    assert anonymous.get("/metrics", headers={"Authorization": f"Bearer {viewer}"}).status_code == 403

    assert has(scrape(anonymous, login(client, "admin", ADMIN_PASSWORD)), "nvr_camera_up", camera="cam0")
    assert has(scrape(client, KEY), "nvr_camera_up", camera="cam0")
    assert KEY not in redact_text(f"Authorization: Bearer {KEY}"), "the key is hidden in every log line"
    assert KEY not in repr(station.config)


def test_metrics_describe_each_camera_and_the_station(recording) -> None:
    _station, client = recording

    def recording_both() -> Samples:
        samples = scrape(client, KEY)
        return samples if all(value(samples, "nvr_camera_up", camera=name) == 1 and
                              value(samples, "nvr_camera_segments_written_total", camera=name) > 0
                              for name in ("cam0", "cam1")) else {}

    first = wait_for(recording_both, 20, "both cameras up, a segment written")
    for name in ("cam0", "cam1"):
        for metric in PER_CAMERA:
            assert has(first, metric, camera=name), f"{metric} of {name}"
        assert value(first, "nvr_camera_fps", camera=name) > 5
        assert value(first, "nvr_camera_bitrate_bits_per_second", camera=name) > 10_000
        assert value(first, "nvr_camera_last_frame_age_seconds", camera=name) < 2
        assert value(first, "nvr_camera_recorded_bytes_total", camera=name) > 0
        assert value(first, "nvr_camera_footage_days", camera=name) > 0
    assert value(first, "nvr_camera_enabled", camera="spare") == 0
    assert value(first, "nvr_camera_up", camera="spare") == 0
    assert not has(first, "nvr_camera_fps", camera="spare"), "a disabled camera has no stream figures"
    assert value(first, "nvr_disk_free_bytes") > 0
    assert value(first, "nvr_disk_total_bytes") >= value(first, "nvr_disk_free_bytes")
    assert value(first, "nvr_storage_shortage") == 0

    written = value(first, "nvr_camera_segments_written_total", camera="cam0")
    wait_for(lambda: value(scrape(client, KEY), "nvr_camera_segments_written_total", camera="cam0") > written,
             15, "segments written going up")

    later = scrape(client, KEY)
    ticks = value(later, "nvr_detection_tick_seconds_count")
    analysed = value(first, "nvr_camera_detection_frames_total", camera="cam0")
    assert value(later, "nvr_camera_detection_frames_total", camera="cam0") > analysed > 0
    assert not has(later, "nvr_camera_detection_frames_total", camera="spare")
    assert ticks > 0 and value(later, "nvr_detection_tick_seconds_bucket", le="+Inf") == ticks
    client.get("/api/cameras/cam0")
    client.get("/api/cameras/cam1")
    for invented in ("BREW", "X-PROBE-1", "X-PROBE-2"):
        client.request(invented, "/api/cameras/cam0")
    labelled = [dict(labels) for name, labels in scrape(client, KEY)
                if name == "nvr_http_request_duration_seconds_count"]
    routes = {labels.get("route") for labels in labelled}
    assert {"/api/cameras/{name}", "/metrics", "/api/auth/login"} <= routes
    assert not any("cam0" in route for route in routes if route), "route templates, never raw paths"
    assert {labels["method"] for labels in labelled} <= {"GET", "POST", "other"}, "a made-up method, no new series"


def test_a_30_fps_camera_is_analysed_about_15_times_a_second(tmp_path: Path, make_station) -> None:
    """The recorders' decoder tap picks about 15 frames a second of a faster camera for detection
    (`ingest.frame_picker`, `CameraDetectSettings.analysed_fps`). Before, every frame went to detection, whose ticks
    took the newest: 20 a second, 33 and 66 ms apart."""
    with RtspServer(["fast"], fps=30, gop=30) as server:
        config = station_config(tmp_path, [{"name": "fast", "record_url": server.url("fast")}], metrics={"key": KEY})
        _station, client = make_station(config)

        def analysed() -> float:
            return value(scrape(client, KEY), "nvr_camera_detection_frames_total", camera="fast")

        wait_for(lambda: analysed() > 0, 20, "detection analysing the camera")
        wait_for(lambda: value(scrape(client, KEY), "nvr_camera_fps", camera="fast") > 25, 20, "the camera at 30 fps")
        before, started = analysed(), time.monotonic()
        wait_for(lambda: analysed() >= before + 60, 20, "60 more pictures analysed")
        per_second = (analysed() - before) / (time.monotonic() - started)
        # 15 (fewer if the station is short of CPU); with every frame handed over, 19.6-20 here: as many as
        # the detector's ticks (nvr.runtime.detector_process.TICK_SECONDS apart) took the newest picture
        assert per_second <= 17.5, per_second
