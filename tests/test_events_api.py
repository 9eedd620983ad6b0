"""Events through the API and the WebSocket, filtered by the caller's cameras."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from websockets.exceptions import ConnectionClosed, InvalidStatus
from websockets.sync.client import connect
from websockets.typing import Origin

from api.app import create_app
from api.auth import COOKIE
from tests.conftest import station_config, wait_for
from tests.support.rtsp import RtspServer
from tests.support.web import serving

JPEG = b"\xff\xd8\xff\xe0" + b"\x00" * 64 + b"\xff\xd9"


@pytest.fixture
def recorded(cameras: RtspServer, tmp_path: Path, make_station):
    # events made by hand, to test the API alone: the detector stays off
    off = {"enabled": False}
    config = station_config(tmp_path, [{"name": "nha-5", "record_url": cameras.url("cam0"), "detect": off},
                                       {"name": "nga-tu", "record_url": cameras.url("cam1"), "detect": off}])
    station, operator = make_station(config)
    segments = wait_for(lambda: station.index.segments("nha-5", 0, 2**62), 20, "footage")
    start = segments[0].start_ms + 300
    ours = station.events.open("nha-5", "motion", start, 0.7, [(0.1, 0.2, 0.3, 0.4)])
    station.snapshots_dir.mkdir(parents=True, exist_ok=True)
    (station.snapshots_dir / "e1.jpg").write_bytes(JPEG)
    ours = station.events.update(ours.id, end_ms=start + 1200, snapshot="e1.jpg")
    theirs = station.events.open("nga-tu", "tamper_covered", start, 1.0, [])
    station.accounts.add("nha-so-5", "household-pass", "viewer")
    station.accounts.grant("nha-so-5", ["nha-5"])
    household = TestClient(create_app(station))
    household.post("/api/auth/login", json={"username": "nha-so-5", "password": "household-pass"})
    return station, operator, household, ours, theirs


def test_search_get_snapshot_and_clip_respect_grants(recorded) -> None:
    _station, operator, household, ours, theirs = recorded
    assert {e["id"] for e in operator.get("/api/events").json()} == {ours.id, theirs.id}
    assert [e["id"] for e in household.get("/api/events").json()] == [ours.id]
    assert [e["id"] for e in operator.get("/api/events?type=tamper_covered").json()] == [theirs.id]
    assert [e["id"] for e in operator.get("/api/events?camera=nha-5").json()] == [ours.id]
    assert operator.get("/api/events?type=party").status_code == 400
    assert household.get("/api/events?camera=nga-tu").status_code == 404
    one = household.get(f"/api/events/{ours.id}").json()
    assert one["type"] == "motion" and one["boxes"] == [[0.1, 0.2, 0.3, 0.4]] and one["end"].endswith("+07:00")
    image = household.get(f"/api/events/{ours.id}/snapshot.jpg")
    assert image.status_code == 200 and image.headers["content-type"] == "image/jpeg" and image.content == JPEG
    clip = household.get(f"/api/events/{ours.id}/clip.mp4")
    assert clip.status_code == 200 and clip.content[4:8] == b"ftyp"
    for route in ("", "/snapshot.jpg", "/clip.mp4"):
        assert household.get(f"/api/events/{theirs.id}{route}").status_code == 404
        assert household.get(f"/api/events/999999{route}").status_code == 404
    assert operator.get(f"/api/events/{theirs.id}/snapshot.jpg").status_code == 404  # it has none


def test_websocket_streams_only_visible_cameras_and_refuses_strangers(recorded) -> None:
    """Through the real server (uvicorn) and a real WebSocket client."""
    station, _operator, household, ours, theirs = recorded
    token = household.cookies.get(COOKIE)
    with serving(station) as base:
        url = f"{base.replace('http', 'ws', 1)}/api/events/ws"
        with connect(f"{url}?token={token}", open_timeout=10) as socket:
            wait_for(lambda: station.event_bus.count, 5, "the socket subscribed")
            station.event_bus.publish(theirs)
            station.event_bus.publish(ours)
            assert json.loads(socket.recv(timeout=10))["id"] == ours.id
        for refused in (url, f"{url}?token=not-a-token"):
            with pytest.raises((InvalidStatus, ConnectionClosed)), connect(refused, open_timeout=10) as socket:
                socket.recv(timeout=10)
        with (pytest.raises((InvalidStatus, ConnectionClosed)),
              connect(f"{url}?token={token}", origin=Origin("http://evil.example"), open_timeout=10) as socket):
            socket.recv(timeout=10)


def test_staff_acknowledge_an_event_once_with_a_note_audited_and_told_to_every_screen(recorded) -> None:
    station, operator, household, ours, theirs = recorded
    assert operator.get(f"/api/events/{ours.id}").json()["ack"] is None
    note = {"note": "  Người nhà đi về, không có gì  "}
    assert household.post(f"/api/events/{ours.id}/ack", json=note).status_code == 403, "households only look"
    for bad in ({"note": "x" * 1001}, {"note": "ok", "by": "someone-else"}, {"note": 5}):
        assert operator.post(f"/api/events/{ours.id}/ack", json=bad).status_code == 422, bad
    assert operator.post("/api/events/999999/ack", json=note).status_code == 404

    token = household.cookies.get(COOKIE)
    with serving(station) as base, connect(f"{base.replace('http', 'ws', 1)}/api/events/ws?token={token}",
                                           open_timeout=10) as socket:
        wait_for(lambda: station.event_bus.count, 5, "the socket subscribed")
        done = operator.post(f"/api/events/{ours.id}/ack", json=note)
        assert done.status_code == 200
        ack = done.json()["ack"]
        assert ack["by"] == "duty" and ack["note"] == "Người nhà đi về, không có gì" and ack["at"].endswith("+07:00")
        told = json.loads(socket.recv(timeout=10))
        assert told["id"] == ours.id and told["ack"] == ack

    again = operator.post(f"/api/events/{ours.id}/ack", json={"note": "later"})
    assert again.status_code == 409 and again.json()["detail"] == f"event {ours.id} is already acknowledged by duty"
    assert household.get(f"/api/events/{ours.id}").json()["ack"] == ack, "the first acknowledgement stands"
    assert [e["id"] for e in operator.get("/api/events?acknowledged=false").json()] == [theirs.id]
    assert [e["id"] for e in operator.get("/api/events?acknowledged=true").json()] == [ours.id]
    entry = station.audit.entries(start_ms=0, end_ms=2**62, action="event_ack")
    assert [(e.username, e.camera) for e in entry] == [("duty", "nha-5")]
    assert entry[0].detail.startswith(f"event {ours.id} (motion at ") and entry[0].detail.endswith(
        "): Người nhà đi về, không có gì")


def test_one_cameras_events_are_read_by_the_cameras_index(tmp_path: Path) -> None:
    """A camera's events (the events page with a camera chosen, each camera's row of the timeline) were found by
    walking the station's index back through every older event of every camera: 2.2 s a day of one camera at 1.9
    million events. SQLite's plan must seek the camera's index."""
    from sqlalchemy import event

    from storage.events import EventStore
    from storage.index import RecordingIndex

    index = RecordingIndex(f"sqlite:///{tmp_path / 'nvr.db'}", "post")
    store = EventStore(index)
    for camera in ("a", "b"):
        store.open(camera, "motion", 1_000, 0.5, [])
    asked: list[tuple[str, Any]] = []
    event.listen(index.engine, "before_cursor_execute",
                 lambda _conn, _cursor, statement, parameters, *_rest: asked.append((statement, parameters)))
    assert [e.camera for e in store.query(cameras=["a"], types=None, start_ms=0, end_ms=10_000, limit=10)] == ["a"]
    statement, parameters = next(found for found in asked if "FROM events" in found[0])
    with index.engine.connect() as connection:
        plan = " ".join(str(row) for row in connection.exec_driver_sql(f"EXPLAIN QUERY PLAN {statement}", parameters))
    assert "ix_events_camera_start" in plan, plan
    assert [e.camera for e in store.query(cameras=None, types=None, start_ms=0, end_ms=10_000, limit=10)] == ["b", "a"]
    index.close()
