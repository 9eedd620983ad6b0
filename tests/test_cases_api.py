"""Cases and bookmarks through the API of a recording station: who may use them, what they accept, what
the audit log and the storage figures say, and the station's public key."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from nvr.evidence.signing import KEY_FILE, StationKey, public_base64
from storage.machine_keys import MachineKeys
from tests.conftest import OPERATOR, start_station, station_config, wait_for
from tests.support.district_hold import hold_for_district
from tests.support.rtsp import RtspServer

VIEWER, VIEWER_PASSWORD = "nha-so-5", "household-pass"
ADMIN, ADMIN_PASSWORD = "admin", os.environ["NVR_ADMIN_PASSWORD"]


class Post:
    def __init__(self, station: Any, operator: TestClient) -> None:
        self.station, self.operator = station, operator

    def client(self, username: str, password: str) -> TestClient:
        client = TestClient(create_app(self.station))
        token = client.post("/api/auth/login", json={"username": username, "password": password}).json()["token"]
        client.headers["Authorization"] = f"Bearer {token}"
        return client

    def recorded(self, camera: str) -> tuple[float, float]:
        """Unix seconds of a recorded stretch of `camera`."""
        segments = self.station.index.segments(camera, 0, 2**62)
        return segments[0].start_ms / 1000 + 0.2, segments[-1].end_ms / 1000 - 0.2

    def audit(self, action: str) -> list[Any]:
        return self.station.audit.entries(start_ms=0, end_ms=2**62, action=action)


@pytest.fixture(scope="module")
def post(cameras: RtspServer, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Post]:
    config = station_config(tmp_path_factory.mktemp("cases"), [{"name": "hem-4", "record_url": cameras.url("cam0")},
                                                                 {"name": "nga-tu", "record_url": cameras.url("cam1")}])
    started: list[Any] = []
    station, operator = start_station(config, started)
    try:
        station.accounts.add(VIEWER, VIEWER_PASSWORD, "viewer")
        station.accounts.grant(VIEWER, ["hem-4"])
        for name in ("hem-4", "nga-tu"):
            wait_for(lambda n=name: len(station.index.segments(n, 0, 2**62)) >= 2, 30, f"footage of {name}")
        yield Post(station, operator)
    finally:
        station.stop()


def test_a_case_is_created_read_changed_and_deleted_with_every_step_audited(post: Post) -> None:
    start, end = post.recorded("hem-4")
    created = post.operator.post("/api/cases", json={"title": " Mất xe máy ", "note": "nhà số 12\n\tcửa sau",
                                                     "items": [{"camera": "hem-4", "start": start, "end": end}]})
    assert created.status_code == 201, created.text
    case = created.json()
    assert case["status"] == "open" and case["locked"] and case["created_by"] == "duty"
    assert [(i["camera"], i["start_ms"], i["end_ms"]) for i in case["items"]] == [
        ("hem-4", round(start * 1000), round(end * 1000))]
    assert case["export"] == {"case": case["id"], "state": "none"}
    path = f"/api/cases/{case['id']}"
    assert post.operator.get(path).json()["title"] == "Mất xe máy"
    assert case["id"] in [c["id"] for c in post.operator.get("/api/cases?status=open").json()]

    other_start, other_end = post.recorded("nga-tu")
    added = post.operator.post(f"{path}/items", json={"camera": "nga-tu", "start": str(other_start),
                                                      "end": str(other_end), "note": "hướng ra chợ"})
    assert added.status_code == 201 and added.json()["note"] == "hướng ra chợ"
    assert len(post.operator.get(path).json()["items"]) == 2
    assert post.operator.delete(f"{path}/items/{added.json()['id']}").status_code == 204
    assert post.operator.delete(f"{path}/items/{added.json()['id']}").status_code == 404
    changed = post.operator.patch(path, json={"title": "Mất xe máy Honda", "status": "closed"}).json()
    assert changed["title"] == "Mất xe máy Honda" and changed["status"] == "closed" and not changed["locked"]
    assert case["id"] in [c["id"] for c in post.operator.get("/api/cases?status=closed").json()]
    assert post.operator.delete(path).status_code == 204
    assert post.operator.get(path).status_code == 404

    for action, camera in (("case_create", None), ("case_item_add", "nga-tu"), ("case_item_remove", "nga-tu"),
                           ("case_update", None), ("case_delete", None)):
        entries = [e for e in post.audit(action) if f"case {case['id']}" in e.detail]
        assert entries and entries[0].username == "duty" and entries[0].camera == camera, action
    assert "status 'closed'" in next(e for e in post.audit("case_update") if f"case {case['id']}" in e.detail).detail


def test_only_operators_and_admins_may_use_cases_and_bookmarks(post: Post) -> None:
    start, end = post.recorded("hem-4")
    body = {"title": "t", "items": [{"camera": "hem-4", "start": start, "end": end}]}
    case = post.operator.post("/api/cases", json=body).json()
    admin = post.client(ADMIN, ADMIN_PASSWORD)
    assert admin.post("/api/cases", json=body).status_code == 201
    assert admin.get(f"/api/cases/{case['id']}").status_code == 200
    viewer = post.client(VIEWER, VIEWER_PASSWORD)
    anonymous = TestClient(create_app(post.station))
    calls = [("get", "/api/cases", None), ("post", "/api/cases", body), ("get", f"/api/cases/{case['id']}", None),
             ("patch", f"/api/cases/{case['id']}", {"note": "x"}), ("delete", f"/api/cases/{case['id']}", None),
             ("post", f"/api/cases/{case['id']}/items", body["items"][0]),
             ("delete", f"/api/cases/{case['id']}/items/1", None), ("post", f"/api/cases/{case['id']}/export", None),
             ("get", f"/api/cases/{case['id']}/export", None), ("get", f"/api/cases/{case['id']}/export.zip", None),
             ("get", "/api/bookmarks", None), ("post", "/api/bookmarks", {"camera": "hem-4", "at": start}),
             ("get", "/api/bookmarks/1", None), ("delete", "/api/bookmarks/1", None)]
    for method, url, json in calls:
        assert viewer.request(method, url, json=json).status_code == 403, (method, url)
        assert anonymous.request(method, url, json=json).status_code == 401, (method, url)
    assert post.operator.get(f"/api/cases/{case['id']}").json()["note"] == "", "nothing the viewer asked was done"


def test_bad_items_are_refused_naming_the_field(post: Post) -> None:
    start, end = post.recorded("hem-4")

    def create(*items: dict[str, Any]) -> Any:
        return post.operator.post("/api/cases", json={"title": "t", "items": list(items)})

    good = {"camera": "hem-4", "start": start, "end": end}
    refused = [
        (create(good, {**good, "start": "hôm qua"}), 400, "items[1].start: 'hôm qua' is not a time"),
        (create({**good, "end": start - 1}), 400, "items[0].end: must be after start"),
        (create({**good, "start": start - 2 * 86_400}), 400, "items[0].end: the range is longer than the limit"),
        (create(good, {**good, "camera": "ghost"}), 404, "items[1].camera: no camera named 'ghost'"),
        (create({**good, "start": 1000, "end": 2000}), 404, "items[0].start: no footage of hem-4"),
        (create({"camera": "hem-4"}), 400, "items[0].camera, items[0].start, items[0].end: required"),
        (create({"event": 1, "bookmark": 1}), 400, "give one of them, not both"),
        (create({"bookmark": 2_000_000}), 404, "no bookmark 2000000"),
        (create({"event": 2_000_000}), 404, "no event 2000000"),
    ]
    for response, status, detail in refused:
        assert response.status_code == status and detail in response.json()["detail"], response.text
    for body in ({"title": "", "items": []}, {"title": "  "}, {"title": "a\nb"}, {"title": "t", "note": "nul\u0000"},
                 {"title": "t", "tittle": "x"}, {"title": "t", "items": [{"cam": 1}]},
                 {"title": "t", "items": [{"bookmark": 0}]}, {"title": "t", "items": [{**good, "start": True}]}):
        assert post.operator.post("/api/cases", json=body).status_code == 422, body
    assert post.operator.get("/api/cases/0").status_code == 422
    assert post.operator.get("/api/cases/2000000").status_code == 404
    assert post.operator.patch("/api/cases/2000000", json={"note": "x"}).status_code == 404
    assert post.operator.patch("/api/cases/1", json={"status": "lost"}).status_code == 422


def test_items_come_from_bookmarks_and_events(post: Post) -> None:
    _start, end = post.recorded("hem-4")
    at = end - 1
    made = post.operator.post("/api/bookmarks", json={"camera": "hem-4", "at": at, "note": "người lạ"})
    assert made.status_code == 201 and made.json()["created_by"] == "duty"
    for nowhere in (at + 365 * 86_400, 0):  # a year ahead, 1970: no footage to mark
        refused = post.operator.post("/api/bookmarks", json={"camera": "hem-4", "at": nowhere})
        assert refused.status_code == 404 and refused.json()["detail"].startswith("at: no footage of hem-4")
    bookmark = made.json()
    assert post.operator.get(f"/api/bookmarks/{bookmark['id']}").json()["note"] == "người lạ"
    assert bookmark["id"] in [b["id"] for b in post.operator.get("/api/bookmarks?camera=hem-4").json()]
    assert post.operator.patch(f"/api/bookmarks/{bookmark['id']}", json={"note": "xe SH"}).json()["note"] == "xe SH"
    event = post.station.events.open("hem-4", "motion", round(at * 1000) - 4000, 0.9, [])
    post.station.events.update(event.id, end_ms=round(at * 1000) - 1000)

    case = post.operator.post("/api/cases", json={"title": "t", "items": [{"bookmark": bookmark["id"]}]}).json()
    [from_bookmark] = case["items"]
    assert (from_bookmark["camera"], from_bookmark["bookmark"], from_bookmark["note"]) == ("hem-4", bookmark["id"],
                                                                                         "xe SH")
    assert (from_bookmark["start_ms"], from_bookmark["end_ms"]) == (bookmark["at_ms"] - 30_000,
                                                                  bookmark["at_ms"] + 30_000)
    from_event = post.operator.post(f"/api/cases/{case['id']}/items", json={"event": event.id}).json()
    assert (from_event["camera"], from_event["event"]) == ("hem-4", event.id)
    assert (from_event["start_ms"], from_event["end_ms"]) == (event.start_ms - 5000, round(at * 1000) - 1000 + 5000)
    going_on = post.station.events.open("hem-4", "motion", round(at * 1000) - 20_000, 0.9, [])  # still going on
    wait_for(lambda: time.time() * 1000 > going_on.updated_ms + 1000, 5, "its last snapshot a second old")
    asked_ms = round(time.time() * 1000)
    from_live = post.operator.post(f"/api/cases/{case['id']}/items", json={"event": going_on.id}).json()
    assert from_live["end_ms"] >= asked_ms + 5000, "to when it was added, not to its last snapshot"
    typed = post.operator.post(f"/api/cases/{case['id']}/items", json={"event": going_on.id, "end": asked_ms / 1000})
    assert typed.status_code == 201, typed.text
    typed = typed.json()
    held = post.operator.post("/api/cases", json={"title": "[Quận #2] t", "items": [{"event": going_on.id}]}).json()
    hold_for_district(post.station.index, held["id"])  # the district's to change: it does not follow here
    # it goes on 2 s more: the item made of it while it went on follows it to its end (detection stores the end)
    wait_for(lambda: time.time() * 1000 > asked_ms + 2000, 5, "the event to go on")
    ended_ms = round(time.time() * 1000)
    ended = post.station.events.update(going_on.id, end_ms=ended_ms)
    post.station._event_changed(ended)
    items = {i["id"]: i for i in post.operator.get(f"/api/cases/{case['id']}").json()["items"]}
    assert items[from_live["id"]]["end_ms"] == ended_ms + 5000, "to its end and the post-roll"
    assert post.operator.get(f"/api/cases/{held['id']}").json()["items"][0]["end_ms"] < ended_ms + 5000
    assert items[typed["id"]]["end_ms"] == asked_ms, "an end the officer typed is left alone"
    wrong = post.operator.post(f"/api/cases/{case['id']}/items", json={"event": event.id, "camera": "nga-tu"})
    assert wrong.status_code == 400 and "camera: the event is of camera 'hem-4'" in wrong.json()["detail"]
    assert post.operator.delete(f"/api/bookmarks/{bookmark['id']}").status_code == 204
    assert post.operator.get(f"/api/bookmarks/{bookmark['id']}").status_code == 404
    for action in ("bookmark_add", "bookmark_update", "bookmark_delete"):
        assert [e for e in post.audit(action) if f"bookmark {bookmark['id']}" in e.detail and e.camera == "hem-4"]


def test_storage_shows_the_footage_open_cases_lock(post: Post) -> None:
    def storage() -> tuple[int, dict[str, Any]]:
        """nga-tu's locked bytes, and the whole answer."""
        shown = post.operator.get("/api/storage").json()
        assert shown["locked_bytes"] == sum(c["locked_bytes"] for c in shown["cameras"])
        return {c["name"]: c for c in shown["cameras"]}["nga-tu"]["locked_bytes"], shown

    # Other tests' open cases of hem-4 may reach into the future and lock what it records meanwhile.
    before, _shown = storage()
    start, end = post.recorded("nga-tu")
    case = post.operator.post("/api/cases", json={"title": "t", "items": [
        {"camera": "nga-tu", "start": start, "end": end}]}).json()
    locked, shown = storage()
    assert locked > before
    assert shown["shortage"] is None
    unchanged = post.operator.patch(f"/api/cases/{case['id']}", json={})
    assert unchanged.status_code == 200 and unchanged.json()["updated"] == case["updated"], "nothing asked"
    assert post.operator.patch("/api/cases/2000000", json={}).status_code == 404
    post.operator.patch(f"/api/cases/{case['id']}", json={"status": "closed"})
    assert storage()[0] == before
    updates = [e.detail for e in post.station.audit.entries(start_ms=0, end_ms=2**62) if e.action == "case_update"]
    assert f"case {case['id']}: status 'closed'" in updates and f"case {case['id']}: " not in updates


def test_a_case_held_for_the_district_is_changed_by_the_district_alone(post: Post) -> None:
    """Closing the post's part of a district case here would unlock footage the district still holds: only its
    creator (the district's account, with its machine key) changes it; others get a 409 naming the district case."""
    start, end = post.recorded("nga-tu")
    item = {"camera": "nga-tu", "start": start, "end": end}
    case = post.operator.post("/api/cases", json={"title": "[Quận #1] t", "items": [item]}).json()
    district_case = hold_for_district(post.station.index, case["id"])
    path = f"/api/cases/{case['id']}"
    admin = post.client(ADMIN, ADMIN_PASSWORD)
    assert admin.get(path).json()["district_case"] == district_case
    assert {c["id"]: c["district_case"] for c in admin.get("/api/cases").json()}[case["id"]] == district_case
    item_path = f"{path}/items/{case['items'][0]['id']}"
    for method, url, body in (("patch", path, {"status": "closed"}), ("delete", path, None),
                              ("post", f"{path}/items", item), ("delete", item_path, None)):
        refused = admin.request(method, url, json=body)
        assert refused.status_code == 409, (method, url, refused.text)
        assert f"district case #{district_case}" in refused.json()["detail"]
    held = admin.get(path).json()
    assert held["status"] == "open" and len(held["items"]) == 1, "nothing changed"
    refused = post.operator.patch(path, json={"status": "closed"})
    assert refused.status_code == 409, "its creator's account signed in with a password is a person, not the district"
    _, key = MachineKeys(post.station.index, post.station.accounts).create(OPERATOR, "district")
    district = TestClient(create_app(post.station), headers={"Authorization": f"Bearer {key}"})
    assert district.patch(path, json={"status": "closed"}).json()["status"] == "closed", "its creator's key may"


def test_the_station_key_is_made_once_private_and_published(post: Post, tmp_path: Path) -> None:
    shown = post.operator.get("/api/station").json()
    assert shown["id"] == post.station.index.station and shown["timezone"] == "Asia/Ho_Chi_Minh"
    assert shown["public_key"] == public_base64(post.station.key.public)
    assert shown["public_key_pem"].startswith("-----BEGIN PUBLIC KEY-----")
    assert shown["key_fingerprint"].startswith("sha256:") and len(shown["key_fingerprint"]) == 71
    key_file = post.station.config.data_dir / KEY_FILE
    assert key_file.stat().st_mode & 0o777 == 0o600
    assert public_base64(StationKey.load_or_create(post.station.config.data_dir).public) == shown["public_key"]
    fresh = StationKey.load_or_create(tmp_path)
    assert public_base64(fresh.public) != shown["public_key"], "each station makes its own key"
    assert post.client(VIEWER, VIEWER_PASSWORD).get("/api/station").status_code == 200, "public for any user"
