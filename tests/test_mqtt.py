"""MQTT against a real mosquitto: retained camera status with the reason, Home Assistant discovery that follows
the cameras, a real motion event as JSON with motion ON/OFF, a broker that goes away (detection and recording
keep their pace; what waited arrives when it is back), retained states given again to a broker that lost
them, the last will of a killed station process."""

from __future__ import annotations

import itertools
import json
import logging
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

from nvr.config import CameraConfig, MqttConfig
from nvr.integrations import mqtt as mqtt_module
from nvr.integrations.mqtt import MqttPublisher
from tests.conftest import station_config, wait_for
from tests.support.mosquitto import PASSWORD, USER, Mosquitto, MqttWatcher, retained
from tests.support.processes import descendants, listening_pid
from tests.support.rtsp import RtspServer, free_port

STATION = "post-7"
SENSORS = ("motion", "tamper", "online")


@pytest.fixture
def broker():
    with Mosquitto() as server:
        yield server


def mqtt_settings(broker: Mosquitto) -> dict:
    return {"host": "127.0.0.1", "port": broker.port, "username": USER, "password": PASSWORD}


def discovery(broker: Mosquitto, camera: str) -> dict[str, dict]:
    """The camera's Home Assistant sensors by kind, from their retained config topics."""
    prefix = f"homeassistant/binary_sensor/{STATION}/{camera}_"
    return {topic.removeprefix(prefix).removesuffix("/config"): json.loads(payload)
            for topic, payload in retained(broker, f"homeassistant/binary_sensor/{STATION}/#").items()
            if topic.startswith(prefix)}


def status_of(broker: Mosquitto, camera: str) -> tuple[bytes | None, bytes | None]:
    found = retained(broker, f"nvr/{camera}/status/#")
    return found.get(f"nvr/{camera}/status"), found.get(f"nvr/{camera}/status/reason")


def offline_reason(broker: Mosquitto, camera: str) -> bytes | None:
    status, reason = status_of(broker, camera)
    return reason if status == b"offline" else None


def test_status_is_retained_with_the_reason_and_discovery_follows_the_cameras(
        broker: Mosquitto, cameras: RtspServer, tmp_path: Path, make_station, caplog) -> None:
    caplog.set_level(logging.DEBUG)
    with RtspServer(["cam0"]) as server:
        # detection off: the test pattern's moving parts must not turn motion or tamper on
        config = station_config(tmp_path, [{"name": "cam0", "record_url": server.url("cam0"), "title": "Hẻm 4",
                                            "detect": {"enabled": False}}],
                                station={"id": STATION}, mqtt=mqtt_settings(broker))
        station, client = make_station(config)
        wait_for(lambda: status_of(broker, "cam0") == (b"online", None), 20, "cam0 online, retained, no reason")
        assert retained(broker, "nvr/available") == {"nvr/available": b"online"}
        assert retained(broker, "nvr/cam0/+") == {"nvr/cam0/status": b"online", "nvr/cam0/motion": b"OFF",
                                                  "nvr/cam0/tamper": b"OFF"}
        sensors = discovery(broker, "cam0")
        assert sorted(sensors) == sorted(SENSORS)
        for kind, sensor in sensors.items():
            assert sensor["unique_id"] == f"{STATION}_cam0_{kind}"
            assert sensor["availability_topic"] == "nvr/available" and sensor["device"]["name"] == "Hẻm 4"
        assert sensors["online"]["state_topic"] == "nvr/cam0/status"
        assert (sensors["online"]["payload_on"], sensors["online"]["payload_off"]) == ("online", "offline")
        assert sensors["motion"]["state_topic"] == "nvr/cam0/motion" and sensors["motion"]["device_class"] == "motion"
        assert sensors["tamper"]["state_topic"] == "nvr/cam0/tamper" and sensors["tamper"]["device_class"] == "tamper"

        server.kill()
        wait_for(lambda: offline_reason(broker, "cam0"), 20, "cam0 offline with a reason, retained")
        # the reason changes with each reconnect attempt: the two agree once both have seen the same attempt
        wait_for(lambda: (api := client.get("/api/cameras/cam0").json())["status"] != "online"
                 and (offline_reason(broker, "cam0") or b"").decode() == api["last_error"], 10,
                 "MQTT and the API agreeing on why")

        station.put_camera(CameraConfig(name="cam1", record_url=cameras.url("cam1")))
        wait_for(lambda: status_of(broker, "cam1") == (b"online", None), 20, "a camera added at run time online")
        assert sorted(discovery(broker, "cam1")) == sorted(SENSORS)
        station.remove_camera("cam1")
        wait_for(lambda: not retained(broker, "nvr/cam1/#") and not discovery(broker, "cam1"), 10,
                 "a removed camera's retained topics deleted")

        broker.kill()  # back without any retained message
        broker.start()
        wait_for(lambda: status_of(broker, "cam0")[0] == b"offline", 20, "the status given again to the new broker")
        status, why = status_of(broker, "cam0")
        assert status == b"offline" and why, "the state and its reason, given again"
        assert sorted(discovery(broker, "cam0")) == sorted(SENSORS) and not discovery(broker, "cam1")
        assert retained(broker, "nvr/available") == {"nvr/available": b"online"}
    assert PASSWORD not in caplog.text and "MQTT: connected" in caplog.text


def test_a_real_motion_event_arrives_as_json_with_motion_on_then_off(
        broker: Mosquitto, scene_cameras: RtspServer, tmp_path: Path, make_station) -> None:
    with MqttWatcher(broker, ("nvr/#",)) as watcher:
        config = station_config(tmp_path, [{"name": "cua-hang", "record_url": scene_cameras.url("xe-may")},
                                           {"name": "hem-4", "record_url": scene_cameras.url("yen-tinh")}],
                                station={"id": STATION}, mqtt=mqtt_settings(broker),
                                server={"public_url": "https://post-7.example/"})
        _station, client = make_station(config)
        wait_for(lambda: b"OFF" in watcher.payloads("nvr/cua-hang/motion")[1:], 40, "motion ON, then OFF")
        assert [p for p in watcher.payloads("nvr/cua-hang/motion") if p == b"ON"] == [b"ON"]
        assert b"ON" not in watcher.payloads("nvr/hem-4/motion"), "nothing moves in the alley"

        def motion_changes() -> list[dict]:
            return [c for c in map(json.loads, watcher.payloads("nvr/events")) if c["type"] == "motion"]

        ended = wait_for(lambda: next((c for c in motion_changes() if c["end"]), None), 10,
                         "the motion event's end on nvr/events")
        assert ended is not None
        motion = motion_changes()
        assert motion and all(c["camera"] == "cua-hang" and c["station"] == STATION for c in motion)
        assert motion[0]["end"] is None and motion[0]["id"] == ended["id"]
        assert 0 < ended["score"] <= 1 and ended["boxes"] and ended["start"] < ended["end"]
        assert ended["clip_url"] == f"https://post-7.example/api/events/{ended['id']}/clip.mp4"
        assert ended["snapshot_url"] == f"https://post-7.example/api/events/{ended['id']}/snapshot.jpg"
        api = client.get(f"/api/events/{ended['id']}").json()
        assert {k: ended[k] for k in api} == api, "the API's event JSON, with the station and the links"
        snapshot = client.get(ended["snapshot_url"].removeprefix("https://post-7.example"))
        assert snapshot.status_code == 200 and snapshot.headers["content-type"] == "image/jpeg"


def test_a_broker_away_slows_nothing_and_what_waited_arrives_when_it_is_back(
        broker: Mosquitto, scene_cameras: RtspServer, tmp_path: Path, make_station) -> None:
    with MqttWatcher(broker, ("nvr/events", "nvr/+/motion"), session="district-watcher") as watcher:
        wait_for(watcher.subscribed.is_set, 10, "the watcher subscribed")
        config = station_config(tmp_path, [{"name": "cua-hang", "record_url": scene_cameras.url("xe-may")}],
                                station={"id": STATION}, mqtt=mqtt_settings(broker))
        station, _client = make_station(config)
        publisher = station.integrations.mqtt
        wait_for(lambda: publisher.connected and watcher.payloads("nvr/cua-hang/motion"), 20, "connected")
        # recording under way before the broker goes (the camera's state is published before its first picture)
        wait_for(lambda: station.segments("cua-hang", 0, 2**62), 20, "recording")

        broker.stop()  # SIGTERM: the watcher's session and its subscriptions are kept
        down_ms = round(time.time() * 1000)
        wait_for(lambda: not publisher.connected, 5, "the station to notice")

        def motion_since_down():
            found = station.events.query(cameras=["cua-hang"], types=["motion"], start_ms=down_ms, end_ms=2**62,
                                         limit=10)
            return next((e for e in found if e.start_ms > down_ms), None)

        # the scene's motorbike crosses 8 s into each 24 s run of the stream
        event = wait_for(motion_since_down, 45, "a motion event while the broker is away", interval=0.02)
        assert event is not None
        seen_after = time.time() - event.start_ms / 1000

        def ended_event():
            stored = station.events.get(event.id)
            return stored if stored is not None and stored.end_ms is not None else None

        ended = wait_for(ended_event, 20, "its end")
        assert ended is not None
        assert not publisher.connected, "the broker was away the whole time"
        assert seen_after < 2.0, f"the event row was written {seen_after:.2f} s after its start"
        spans = sorted((s.start_ms, s.end_ms) for s in station.segments("cua-hang", down_ms - 3000, 2**62))
        holes = [(end, start) for (_, end), (start, _) in itertools.pairwise(spans) if start - end > 1500]
        assert holes == [] and spans[0][0] <= down_ms and spans[-1][1] >= ended.end_ms, "recording went on"

        broker.start()
        wait_for(lambda: publisher.connected, 15, "the station back on the broker")
        wait_for(lambda: [json.loads(p)["end_ms"] for p in watcher.payloads("nvr/events")
                          if json.loads(p)["id"] == event.id][-1:] == [ended.end_ms], 15,
                 "the event's changes, held while the broker was away")
        changes = [json.loads(p) for p in watcher.payloads("nvr/events") if json.loads(p)["id"] == event.id]
        assert changes[0]["end"] is None and changes[0]["camera"] == "cua-hang"
        assert watcher.payloads("nvr/cua-hang/motion")[-1] == b"OFF", "a state is given as it is now"
        assert publisher.dropped == 0


def test_a_full_outbox_drops_the_oldest_and_counts_them(monkeypatch) -> None:
    monkeypatch.setattr(mqtt_module, "OUTBOX_LIMIT", 50)
    config = MqttConfig(host="127.0.0.1", port=free_port(), username=USER, password=PASSWORD)  # nobody there
    publisher = MqttPublisher(config, "outbox-test")
    publisher.start()
    try:
        slowest = 0.0
        for n in range(60):
            began = time.perf_counter()
            publisher.publish("nvr/events", str(n))
            slowest = max(slowest, time.perf_counter() - began)
        assert publisher.dropped == 11, "the first `online` and the ten oldest events"
        assert slowest < 0.05, f"publish took {slowest * 1000:.1f} ms"
    finally:
        publisher.stop()


def write_run_config(folder: Path, broker: Mosquitto, port: int, camera_url: str) -> Path:
    path = folder / "config.yaml"
    path.write_text(yaml.safe_dump({
        "data_dir": "data", "station": {"id": STATION}, "server": {"host": "127.0.0.1", "port": port},
        "storage": {"segment_seconds": 2, "min_free_bytes": 0}, "mqtt": mqtt_settings(broker),
        "cameras": [{"name": "cam0", "record_url": camera_url}],
    }))
    return path


def test_the_last_will_says_offline_when_the_station_process_is_killed(broker: Mosquitto, cameras: RtspServer,
                                                                      tmp_path: Path) -> None:
    port = free_port()
    config = write_run_config(tmp_path, broker, port, cameras.url("cam0"))
    with MqttWatcher(broker, ("nvr/available",)) as watcher:
        process = subprocess.Popen([sys.executable, "-m", "nvr", "--config", str(config), "run"],
                                   stdout=(tmp_path / "nvr.log").open("ab"), stderr=subprocess.STDOUT,
                                   start_new_session=True)
        try:
            wait_for(lambda: watcher.payloads("nvr/available")[-1:] == [b"online"], 60, "the station online")
            station = wait_for(lambda: listening_pid(descendants(process.pid), port), 10, "the station process")
            assert station is not None
            os.kill(station, signal.SIGKILL)
            wait_for(lambda: watcher.payloads("nvr/available")[-1:] == [b"offline"], 10, "its last will")
            wait_for(lambda: watcher.payloads("nvr/available")[-1:] == [b"online"], 60,
                     "the station process the supervisor started again")
        finally:
            process.send_signal(signal.SIGTERM)
            process.wait(30)
    assert retained(broker, "nvr/available") == {"nvr/available": b"offline"}, "a clean stop says so too"
    assert PASSWORD not in (tmp_path / "nvr.log").read_text()
