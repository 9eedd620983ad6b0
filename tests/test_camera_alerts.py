"""Alerts for cameras offline or tampered with for too long: one event per episode, ended when the camera is
back; and a real camera whose RTSP server is stopped."""

from __future__ import annotations

import time
from pathlib import Path

from fastapi.testclient import TestClient

from detect.events import EventPolicy
from nvr.camera_alerts import SETTLE_SECONDS, AlertRules, CameraState
from tests.conftest import station_config, wait_for
from tests.support.rtsp import RtspServer
from tests.test_metrics import ADMIN_PASSWORD, login, parse, value

FINE = CameraState(None, None)


def rules() -> AlertRules:
    return AlertRules({"camera_offline": 60.0, "camera_tampered": 30.0}, EventPolicy())


def test_an_alert_starts_once_the_limit_is_passed_and_ends_when_the_camera_is_back() -> None:
    alerts = rules()
    assert alerts.check(100.0, 100.0, {"a": CameraState(90.0, None), "b": FINE}) == []
    assert alerts.check(149.0, 149.0, {"a": CameraState(95.0, None), "b": FINE}) == [], "the episode began at 90"
    [started] = alerts.check(150.0, 150.0, {"a": CameraState(140.0, None), "b": FINE})
    assert (started.kind, started.event.camera, started.event.type, started.event.start) == \
        ("started", "a", "camera_offline", 90.0)
    for t in range(151, 400):  # offline and reconnecting: the state's `since` moves, the episode does not
        assert alerts.check(float(t), float(t), {"a": CameraState(t - 0.5, None), "b": FINE}) == []
    assert alerts.check(400.0, 400.0, {"a": FINE, "b": FINE}) == []
    assert alerts.check(401.0, 401.0, {"a": CameraState(400.5, None), "b": FINE}) == [], "a flap is the same episode"
    assert alerts.check(402.0, 402.0, {"a": FINE, "b": FINE}) == []
    [ended] = alerts.check(402.0 + SETTLE_SECONDS, 402.0 + SETTLE_SECONDS, {"a": FINE, "b": FINE})
    assert (ended.kind, ended.event.start, ended.event.end) == ("ended", 90.0, 402.0)


def test_tampering_alerts_short_episodes_are_not_alerts_and_removed_cameras_end_theirs() -> None:
    alerts = rules()
    assert alerts.check(10.0, 10.0, {"a": CameraState(None, 0.0)}) == []
    assert alerts.check(20.0, 20.0, {"a": FINE}) == []
    assert alerts.check(20.0 + SETTLE_SECONDS, 20.0 + SETTLE_SECONDS, {"a": FINE}) == []
    assert alerts.check(100.0, 100.0, {"a": CameraState(None, 100.0)}) == [], "a new episode"
    [started] = alerts.check(130.0, 130.0, {"a": CameraState(None, 100.0)})
    assert (started.event.type, started.event.start) == ("camera_tampered", 100.0)
    assert alerts.check(135.0, 135.0, {"a": None}) == [], "nothing known (its recorder restarts): nothing changes"
    [ended] = alerts.check(140.0, 140.0, {})
    assert (ended.kind, ended.event.end) == ("ended", 140.0), "a camera disabled or removed: its alert ends"

    alerts.check(200.0, 200.0, {"a": CameraState(100.0, None)})
    assert [u.kind for u in alerts.close(201.0)] == ["ended"]
    off = AlertRules({}, EventPolicy())
    assert off.check(10_000.0, 10_000.0, {"a": CameraState(0.0, 0.0)}) == [], "null limits raise nothing"


def test_a_stopped_camera_goes_down_raises_one_offline_alert_that_ends_when_it_returns(tmp_path: Path,
                                                                                        make_station) -> None:
    with RtspServer(["cam0"]) as server:
        config = station_config(tmp_path, [{"name": "hem-7", "record_url": server.url("cam0")}],
                                alerts={"offline_minutes": 0.1}, runtime={"recorder_processes": 1})
        _station, client = make_station(config)
        admin = TestClient(client.app, headers={"Authorization": f"Bearer {login(client, 'admin', ADMIN_PASSWORD)}"})

        def up() -> float:
            return value(parse(admin.get("/metrics").text), "nvr_camera_up", camera="hem-7")

        def alerts() -> list[dict]:
            return client.get("/api/events", params={"type": "camera_offline"}).json()

        wait_for(lambda: up() == 1, 20, "the camera up")
        assert alerts() == []

        server.stop()
        wait_for(lambda: up() == 0, 15, "up 0 once the RTSP server is gone")
        [alert] = wait_for(alerts, 15, "the offline alert")
        assert alert["camera"] == "hem-7" and alert["end"] is None
        time.sleep(3)  # three more checks (one a second) with the camera down: still the same one alert

        server.start()
        wait_for(lambda: up() == 1, 15, "up again")
        [ended] = wait_for(lambda: [a for a in alerts() if a["end"]], 20, "the alert ended")
        assert ended["id"] == alert["id"] and ended["start"] == alert["start"]
        assert len(alerts()) == 1
        samples = parse(admin.get("/metrics").text)
        assert value(samples, "nvr_camera_reconnects_total", camera="hem-7") == 1
        assert value(samples, "nvr_camera_events_total", camera="hem-7", type="camera_offline") == 1


def test_the_station_clock_stepping_back_neither_delays_an_alert_nor_its_end() -> None:
    """NTP sets right a clock that ran 2.8 h ahead while a camera was offline: the alert comes once the camera has
    been offline 60 s in all, and ends once it has been back for the settle (before, each waited for the step)."""
    alerts = rules()
    assert alerts.check(10_000.0, 0.0, {"a": CameraState(9_990.0, None)}) == []
    assert alerts.check(10_040.0, 40.0, {"a": CameraState(9_990.0, None)}) == []  # offline for 50 s
    assert alerts.check(80.0, 41.0, {"a": CameraState(9_990.0, None)}) == []  # the clock stepped back
    [started] = alerts.check(91.0, 52.0, {"a": CameraState(9_990.0, None)})  # 62 s
    assert (started.kind, started.event.start) == ("started", 9_990.0)
    assert alerts.check(100.0, 61.0, {"a": FINE}) == []
    assert alerts.check(50.0, 62.0, {"a": FINE}) == []  # back once more, while settling
    [ended] = alerts.check(50.0 + SETTLE_SECONDS, 61.0 + SETTLE_SECONDS, {"a": FINE})
    assert (ended.kind, ended.event.end) == ("ended", 100.0)  # when it was back, as the clock said then


def test_the_station_clock_stepping_forward_does_not_raise_an_alert() -> None:
    """The clock set an hour forward while a camera was covered for 13 s: it alerted at once, as covered for an hour
    (an audit). The alert comes once the camera has been covered 30 s, as the clock that is never set counts."""
    alerts = rules()
    assert alerts.check(1_000.0, 0.0, {"a": CameraState(None, 987.0)}) == []  # covered for 13 s
    assert alerts.check(4_601.0, 1.0, {"a": CameraState(None, 987.0)}) == [], "not an hour: 14 s"
    [started] = alerts.check(4_618.0, 18.0, {"a": CameraState(None, 987.0)})  # 31 s
    assert (started.kind, started.event.type, started.event.start) == ("started", "camera_tampered", 987.0)
