"""Live detection end to end: pre-encoded streets served by the real RTSP server, decoded and analysed by
the station; events reach the index, the API and the WebSocket, with a snapshot and a playable clip."""

from __future__ import annotations

import io
import json
import time
from pathlib import Path

import av
import cv2
import numpy as np
import pytest
from websockets.sync.client import connect

from tests.conftest import station_config, wait_for
from tests.support.rtsp import RtspServer
from tests.support.web import serving


@pytest.fixture
def watched(scene_cameras: RtspServer, tmp_path: Path, make_station):
    config = station_config(tmp_path, [{"name": "cua-hang", "record_url": scene_cameras.url("xe-may")},
                                       {"name": "hem-4", "record_url": scene_cameras.url("yen-tinh")}])
    return make_station(config)


def next_motion(socket, deadline: float) -> dict:
    while (left := deadline - time.monotonic()) > 0:
        message = json.loads(socket.recv(timeout=left))
        if message["type"] == "motion":
            return message
    raise AssertionError("no motion event before the deadline")


def test_motion_becomes_an_event_on_the_websocket_and_in_the_api_with_snapshot_and_clip(watched) -> None:
    station, client = watched
    token = client.headers["Authorization"].removeprefix("Bearer ")
    with serving(station) as base, connect(f"{base.replace('http', 'ws')}/api/events/ws?token={token}") as socket:
        live = next_motion(socket, time.monotonic() + 30)
    assert live["camera"] == "cua-hang" and 0 < live["score"] <= 1 and live["boxes"]

    event = client.get(f"/api/events/{live['id']}").json()
    assert event["type"] == "motion" and event["start_ms"] == live["start_ms"]
    assert [e["id"] for e in client.get("/api/events?camera=cua-hang&type=motion").json()] == [live["id"]]
    snapshot = client.get(f"/api/events/{live['id']}/snapshot.jpg")
    assert snapshot.status_code == 200
    image = cv2.imdecode(np.frombuffer(snapshot.content, np.uint8), cv2.IMREAD_COLOR)
    assert image is not None and image.shape[:2] == (360, 640)

    wait_for(lambda: station.index.segments("cua-hang", event["start_ms"] + 4000, 2**62), 20, "footage after it")
    clip = client.get(f"/api/events/{live['id']}/clip.mp4")
    assert clip.status_code == 200
    with av.open(io.BytesIO(clip.content), "r") as container:
        assert sum(1 for _ in container.decode(video=0)) >= 4 * 15  # pre-roll and the event itself

    cameras = {c["name"]: c for c in client.get("/api/cameras").json()}
    assert cameras["hem-4"]["mode"] == "day" and cameras["hem-4"]["tamper"] is None
    assert client.get("/api/events?camera=hem-4").json() == []  # nothing moved in the alley


def test_a_camera_with_detection_off_is_recorded_but_never_analysed(scene_cameras: RtspServer, tmp_path: Path,
                                                                  make_station) -> None:
    config = station_config(tmp_path, [{"name": "cua-hang", "record_url": scene_cameras.url("xe-may"),
                                        "detect": {"enabled": False}}])
    station, client = make_station(config)
    wait_for(lambda: station.index.segments("cua-hang", 0, 2**62), 20, "footage")
    assert client.get("/api/cameras/cua-hang").json()["mode"] is None
    assert station.detection.analysed["cua-hang"] == 0 and "cua-hang" not in station.detection.observed
