"""Text with a NUL character, which PostgreSQL cannot store or compare: a clear 4xx everywhere, never a 500, and
nothing half done (a camera added without its audit entry)."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from starlette.websockets import WebSocketDisconnect

from api.app import create_app
from api.refuse_nul import REFUSED
from tests.conftest import OPERATOR, OPERATOR_PASSWORD, station_config
from tests.support.media import encode_video

ADMIN = ("truong-don", "admin-password-1")


def _client(app: object, user: tuple[str, str]) -> TestClient:
    client = TestClient(app, raise_server_exceptions=False)  # type: ignore[arg-type]
    token = client.post("/api/auth/login", json={"username": user[0], "password": user[1]}).json()["token"]
    client.headers["Authorization"] = f"Bearer {token}"
    return client


def test_nul_in_names_filters_and_text_is_refused_on_both_catalogs(database_url: str, tmp_path: Path,
                                                                   make_station) -> None:
    video = encode_video(tmp_path / "cam0.mp4", seconds=2)
    config = station_config(tmp_path, [{"name": "cam0", "record_url": video.as_uri()}],
                            database={"url": database_url})
    station, _ = make_station(config)
    station.accounts.add(*ADMIN, "admin")
    app = create_app(station)
    admin, operator = _client(app, ADMIN), _client(app, (OPERATOR, OPERATOR_PASSWORD))
    anonymous = TestClient(app, raise_server_exceptions=False)

    # in the address: refused before any route, with the security headers
    for answer in (admin.get("/api/audit", params={"username": "a\x00b"}), admin.get("/api/users/a%00b/keys"),
                   admin.post("/api/users/a%00b/password", json={"password": "another-password-1"}),
                   operator.get("/api/cameras/cam%00/recordings")):
        assert answer.status_code == 400 and answer.json() == {"detail": REFUSED}, answer.text
        assert answer.headers["X-Frame-Options"] == "DENY"
    with pytest.raises(WebSocketDisconnect) as closed, anonymous.websocket_connect("/api/events/ws?token=%00"):
        pass
    assert closed.value.code == 1008  # the middleware's (the route's own refusal of a bad token is 4401)

    # in a body: refused by the field's rule (422) or, where none applies, by the catalog's (400)
    login = anonymous.post("/api/auth/login", json={"username": "admin\x00", "password": "whatever"})
    assert login.status_code in (400, 401), login.text
    assert operator.post("/api/events/1/ack", json={"note": "seen\x00"}).status_code == 422
    assert admin.post(f"/api/users/{OPERATOR}/keys", json={"label": "nvr\x00"}).status_code == 422
    added = admin.post("/api/cameras", json={"name": "cong-sau", "record_url": "rtsp://10.0.0.9/stream\x00"})
    assert added.status_code == 400 and "control characters" in added.text, added.text
    assert station.camera("cong-sau") is None
    assert admin.get("/api/cameras/cong-sau").status_code == 404
    assert admin.get("/api/audit", params={"action": "camera_add"}).json() == []
