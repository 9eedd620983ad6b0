"""Cameras added, changed and removed while the station runs (API and `nvr camera`), without disturbing
the others; the catalog is what runs, config.yaml seeds it."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import yaml
from fastapi.testclient import TestClient

from api.app import create_app
from tests.conftest import station_config, wait_for
from tests.support.rtsp import RtspServer

OTHERS = [f"hem-{k}" for k in range(8)]


def as_admin(client) -> None:
    """Camera settings are the administrator's: the fixture's client logs in as the station's admin."""
    token = client.post("/api/auth/login", json={"username": "admin",
                                                 "password": os.environ["NVR_ADMIN_PASSWORD"]}).json()["token"]
    client.headers["Authorization"] = f"Bearer {token}"


def online(client, name: str) -> bool:
    response = client.get(f"/api/cameras/{name}")
    return response.status_code == 200 and response.json()["status"] == "online"


def test_cameras_added_and_removed_through_the_api_leave_the_others_recording(
        cameras: RtspServer, tmp_path: Path, make_station) -> None:
    config = station_config(tmp_path, [{"name": n, "record_url": cameras.url(f"cam{k % 2}")}
                                       for k, n in enumerate(OTHERS)], runtime={"recorder_processes": 2})
    station, client = make_station(config)
    as_admin(client)
    wait_for(lambda: all(online(client, n) for n in OTHERS), 20, "the eight cameras online")
    began_ms = round(time.time() * 1000)
    secret_url = cameras.url("cam0", user="admin", password="mật-khẩu 'x'")

    added = client.post("/api/cameras", json={"name": "cho-moi", "title": "Chợ mới, cổng sau",
                                              "location": "Góc đường Lê Lợi", "record_url": cameras.url("cam1")})
    assert added.status_code == 201, added.text
    assert added.json()["title"] == "Chợ mới, cổng sau" and added.json()["location"] == "Góc đường Lê Lợi"
    wait_for(lambda: online(client, "cho-moi"), 15, "the added camera online")
    wait_for(lambda: station.index.segments("cho-moi", 0, 2**62), 15, "the added camera recorded")
    wait_for(lambda: "cho-moi" in station.detection.observed, 15, "the added camera analysed")

    changed = client.put("/api/cameras/cho-moi", json={"record_url": secret_url, "title": "Chợ mới"})
    assert changed.status_code == 200 and changed.json()["title"] == "Chợ mới"
    assert changed.json()["location"] == "Góc đường Lê Lợi", "what the change left out is kept"
    assert "mật" not in changed.text and "admin:***@" in changed.json()["record_url"]

    station.accounts.add("nha-cho", "household-pass", "viewer")
    station.accounts.grant("nha-cho", ["cho-moi"])
    first_old = station.index.segments("cho-moi", 0, 2**62)[0]
    old_event = station.events.open("cho-moi", "motion", first_old.start_ms + 100, 0.9, [])
    station.events.update(old_event.id, end_ms=first_old.start_ms + 600)
    marked = client.post("/api/bookmarks", json={"camera": "cho-moi", "at": first_old.start_ms / 1000 + 0.5})
    assert marked.status_code == 201, marked.text
    assert client.delete("/api/cameras/cho-moi").status_code == 204
    # taken again within seconds of the removal, the new camera's first pictures could not be told from the old
    # one's last: refused, saying when (storage/camera_store.py)
    again = {"name": "cho-moi", "record_url": cameras.url("cam2")}
    early = client.post("/api/cameras", json=again)
    assert early.status_code == 409 and "can be taken again in" in early.json()["detail"], early.text
    assert 1 <= int(early.headers["Retry-After"]) <= 10
    # the grant goes with the camera: a camera added later under the name may be somebody else's
    assert station.accounts.get_required("nha-cho").cameras == frozenset()
    assert client.get("/api/cameras/cho-moi").status_code == 404
    assert "cho-moi" not in {c["name"] for c in client.get("/api/cameras").json()}
    wait_for(lambda: station.recorder_pid("cho-moi") is None and station.report("cho-moi") is None, 10,
             "the removed camera no longer read")
    assert "cho-moi" not in station.detection.observed, "nor what detection last saw of it (its weather)"
    assert "cho-moi" not in station.detection.analysed, "nor its count of pictures analysed (a metric)"
    assert station.index.segments("cho-moi", 0, 2**62), "its footage stays"

    # the name taken again, by a camera another household is given: it sees none of the old camera's footage,
    # which stays, set aside under a name of its own (found in review: the new household played it). What the old
    # camera's recorder still had to index is indexed first (design/security.md says why).
    folder = config.segments_dir / "cho-moi"
    wait_for(lambda: {p.relative_to(config.segments_dir).as_posix() for p in folder.rglob("*.mp4")}
             <= {s.path for s in station.index.segments("cho-moi", 0, 2**62)}, 10, "the old camera's footage indexed")
    wait_for(lambda: client.post("/api/cameras", json=again).status_code == 201, 15, "the name free again")
    station.accounts.add("nha-moi", "household-pass", "viewer")
    station.accounts.grant("nha-moi", ["cho-moi"])
    token = client.post("/api/auth/login", json={"username": "nha-moi", "password": "household-pass"}).json()["token"]
    household = {"Authorization": f"Bearer {token}"}
    assert client.get(f"/api/events/{old_event.id}", headers=household).status_code == 404
    # the old camera's first second (the new camera's pictures begin after its removal), its last report aside
    old_second = {"start": first_old.start_ms / 1000, "end": first_old.start_ms / 1000 + 1}
    seen = client.get("/api/cameras/cho-moi/recordings", params=old_second, headers=household)
    assert seen.status_code == 200 and seen.json()["ranges"] == [], seen.text
    kept = station.events.get(old_event.id)
    assert kept is not None and kept.camera.startswith("cho-moi~"), "kept, with the old camera's footage"
    assert not station.index.segments("cho-moi", first_old.start_ms, first_old.end_ms)
    set_aside = [c.name for c in station.camera_store.all(removed=True) if c.name.startswith("cho-moi~")]
    assert len(set_aside) == 1 and station.index.segments(set_aside[0], first_old.start_ms, first_old.end_ms)
    # the post's staff reach the old camera's footage by that name (an officer looking into a theft it saw); only
    # `nvr clip` and cases made before its removal did, and /api/storage counted its bytes nowhere
    old_name = set_aside[0]
    storage = client.get("/api/storage").json()
    [listed] = [c for c in storage["removed_cameras"] if c["name"] == old_name]
    assert listed["bytes"] > 0 and listed["segments"] >= 1
    assert client.get(f"/api/cameras/{old_name}/recordings", params=old_second).json()["ranges"], "staff see it"
    assert client.get(f"/api/cameras/{old_name}/clip.mp4", params=old_second).status_code == 200
    assert client.get(f"/api/cameras/{old_name}/recordings", params=old_second, headers=household).status_code == 404
    assert client.get(f"/api/cameras/{old_name}/clip.mp4", params=old_second, headers=household).status_code == 404
    assert client.get(f"/api/cameras/{old_name}").status_code == 404, "no camera to watch or set"
    # and its events and bookmarks, evidence as its footage is (found in review: 404 for everybody, admins too)
    assert client.get(f"/api/events/{old_event.id}").json()["camera"] == old_name
    assert old_event.id in {e["id"] for e in client.get("/api/events", params={"camera": old_name}).json()}
    assert old_event.id in {e["id"] for e in client.get("/api/events").json()}, "in the unfiltered list too"
    assert client.get(f"/api/events/{old_event.id}/clip.mp4").status_code == 200
    assert client.get(f"/api/bookmarks/{marked.json()['id']}").json()["camera"] == old_name
    assert marked.json()["id"] in {b["id"] for b in client.get("/api/bookmarks").json()}
    assert old_event.id not in {e["id"] for e in client.get("/api/events", headers=household).json()}
    assert client.delete("/api/cameras/cho-moi").status_code == 204

    end_ms = round(time.time() * 1000) + 3000
    wait_for(lambda: all(station.index.segments(n, end_ms, 2**62) for n in OTHERS), 20, "the others recording on")
    for name in OTHERS:
        listing = client.get(f"/api/cameras/{name}/recordings",
                             params={"start": began_ms / 1000, "end": end_ms / 1000}).json()
        assert listing["gaps"] == [] and len(listing["ranges"]) == 1, (name, listing)
    actions = [(e.action, e.camera) for e in station.audit.entries(start_ms=0, end_ms=2**62, camera="cho-moi")]
    assert {"camera_add", "camera_set", "camera_rm"} <= {action for action, _ in actions}
    assert all("mật" not in e.detail for e in station.audit.entries(start_ms=0, end_ms=2**62))


def test_bad_camera_input_gets_a_clear_answer_and_only_admins_change_cameras(
        cameras: RtspServer, tmp_path: Path, make_station) -> None:
    config = station_config(tmp_path, [{"name": "hem-0", "record_url": cameras.url("cam0")}],
                            runtime={"recorder_processes": 1})
    station, operator = make_station(config)
    admin = TestClient(create_app(station))
    as_admin(admin)
    headers = admin.headers
    new = {"name": "cong-truong", "record_url": cameras.url("cam1")}
    assert operator.post("/api/cameras", json=new).status_code == 403, "operators watch, admins configure"
    bad_url = operator.post("/api/cameras", json={**new, "record_url": "http://10.0.0.2/x"}, headers=headers)
    assert bad_url.status_code == 400 and "record_url" in bad_url.json()["detail"]
    bad_name = operator.post("/api/cameras", json={**new, "name": "Cổng Trường"}, headers=headers)
    assert bad_name.status_code == 400 and "name" in bad_name.json()["detail"]
    assert operator.post("/api/cameras", json={**new, "name": "cong\n"}, headers=headers).status_code == 400, \
        "a final newline (a folder and log lines of its own)"
    unknown = operator.post("/api/cameras", json={**new, "colour": "red"}, headers=headers)
    assert unknown.status_code == 422
    assert operator.post("/api/cameras", json={**new, "name": "hem-0"}, headers=headers).status_code == 409
    assert operator.put("/api/cameras/nowhere", json={"title": "x"}, headers=headers).status_code == 404
    assert operator.delete("/api/cameras/nowhere", headers=headers).status_code == 404
    disabled = operator.put("/api/cameras/hem-0", json={"enabled": False}, headers=headers)
    assert disabled.status_code == 200 and disabled.json()["status"] == "offline"
    wait_for(lambda: station.report("hem-0") is None, 10, "a disabled camera no longer read")


def test_nvr_camera_commands_reach_a_running_station(cameras: RtspServer, tmp_path: Path, make_station) -> None:
    config = station_config(tmp_path, [{"name": "hem-0", "record_url": cameras.url("cam0")}],
                            runtime={"recorder_processes": 1})
    station, client = make_station(config)
    config_path = tmp_path / "config.yaml"
    config_path.write_text(yaml.safe_dump({"data_dir": str(config.data_dir), "station": {"id": station.index.station},
                                           "cameras": [{"name": "hem-0", "record_url": cameras.url("cam0")}]}))

    def nvr(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "nvr", "--config", str(config_path), "camera", *args],
                              capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL, check=False)

    added = nvr("add", "ngo-3", "--record-url", cameras.url("cam1", user="u", password="s3cret"), "--title", "Ngõ 3")
    assert added.returncode == 0, added.stderr
    wait_for(lambda: online(client, "ngo-3"), 20, "the camera added from the console online")
    assert client.get("/api/cameras/ngo-3").json()["title"] == "Ngõ 3"
    listed = nvr("list")
    assert "ngo-3" in listed.stdout and "s3cret" not in listed.stdout and "u:***@" in listed.stdout
    refused = nvr("add", "ngo-4", "--record-url", "ftp://x")
    assert refused.returncode == 2 and "record_url" in refused.stderr
    assert nvr("rm", "ngo-3").returncode == 0
    soon = nvr("add", "ngo-3", "--record-url", cameras.url("cam1"))
    assert soon.returncode == 2 and "can be taken again in" in soon.stderr, soon.stderr
    wait_for(lambda: client.get("/api/cameras/ngo-3").status_code == 404, 10, "the removed camera gone")
    assert nvr("rm", "ngo-3").returncode == 2


def test_a_change_of_what_only_detection_or_people_use_leaves_the_recording_and_live_view_running(
        cameras: RtspServer, tmp_path: Path, make_station) -> None:
    """Masking the sea of a camera that sees waves, or renaming it, is no reason to cut its recording: before, any
    change restarted the camera's streams (a gap in its footage, its live viewers dropped)."""
    config = station_config(tmp_path, [{"name": "bo-bien", "record_url": cameras.url("cam0")}])
    station, client = make_station(config)
    as_admin(client)
    wait_for(lambda: online(client, "bo-bien"), 15, "the camera online")
    wait_for(lambda: "bo-bien" in station.detection.observed, 15, "the camera analysed")
    since, hub = client.get("/api/cameras/bo-bien").json()["since"], station.hub("bo-bien", "record")
    began_ms = round(time.time() * 1000)
    sea = [[0.0, 0.3], [1.0, 0.3], [1.0, 0.55], [0.0, 0.55]]
    changed = client.put("/api/cameras/bo-bien", json={"title": "Bờ biển", "location": "Kè đá",
                                                      "detect": {"masks": [sea], "sensitivity": "low"}})
    assert changed.status_code == 200, changed.text
    told = station.camera("bo-bien").detect.settings()
    assert told.masks == (tuple(tuple(point) for point in sea),)
    assert station.detection.watched("bo-bien") == told, "the detector told the new masks, by the change itself"
    end_ms = round(time.time() * 1000) + 4000  # two segments on
    wait_for(lambda: station.index.segments("bo-bien", end_ms, 2**62), 15, "the camera recording on")
    after = client.get("/api/cameras/bo-bien").json()
    assert after["since"] == since and after["status"] == "online", "the streams were not restarted"
    assert station.hub("bo-bien", "record") is hub, "nor its live view"
    # its recorder, reading its list again for another camera, keeps it running too
    assert client.post("/api/cameras", json={"name": "ke-da", "record_url": cameras.url("cam1")}).status_code == 201
    wait_for(lambda: online(client, "ke-da"), 15, "the other camera online")
    end_ms = round(time.time() * 1000) + 4000
    wait_for(lambda: station.index.segments("bo-bien", end_ms, 2**62), 15, "the camera recording on")
    assert client.get("/api/cameras/bo-bien").json()["since"] == since, "not restarted by its recorder's reload"
    listing = client.get("/api/cameras/bo-bien/recordings", params={"start": began_ms / 1000, "end": end_ms / 1000})
    assert listing.json()["gaps"] == [], listing.text

    # what the recorder reads (here whether it is analysed) still restarts the camera's streams; a change within
    # `detect` keeps the rest of it
    assert client.put("/api/cameras/bo-bien", json={"detect": {"enabled": False}}).status_code == 200
    wait_for(lambda: client.get("/api/cameras/bo-bien").json()["since"] != since, 15, "the streams restarted")
    assert station.camera("bo-bien").detect.masks == [[tuple(point) for point in sea]]
    assert station.camera("bo-bien").detect.sensitivity == "low"


def test_what_a_recorder_reads_of_a_camera_is_its_streams_and_how_it_decodes_for_detection() -> None:
    from nvr.config import CameraConfig

    camera = CameraConfig(name="cong", record_url="rtsp://10.0.0.5/main", detect_url="rtsp://10.0.0.5/sub")
    part = camera.recording_part()
    kept: list[dict[str, Any]] = [
        {"title": "Cổng"}, {"location": "Ngõ 2"}, {"area": "Hẻm 4"},
        {"detect": {"masks": [[[0, 0], [1, 0], [1, 1]]], "zones": [[[0, 0], [1, 0], [0, 1]]], "sensitivity": "high",
                    "min_object_size": 0.01, "overlay": "off", "tamper": False}}]
    restarting: list[dict[str, Any]] = [
        {"record_url": "rtsp://10.0.0.5/other"}, {"detect_url": None}, {"transport": "udp"}, {"enabled": False},
        {"detect": {"enabled": False}}, {"detect": {"max_fps": 5}}, {"detect": {"keyframes_only": True}}]
    for change in kept:
        assert CameraConfig.model_validate(camera.model_dump() | change).recording_part() == part, change
    for change in restarting:
        assert CameraConfig.model_validate(camera.model_dump() | change).recording_part() != part, change
