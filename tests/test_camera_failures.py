"""Cameras that go away, never answer, or refuse our credentials; the others keep recording."""

from __future__ import annotations

import logging
import os
import signal
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from ingest.source import SourceOptions
from ingest.worker import STREAM_ENDED, Backoff, StreamWorker
from tests.conftest import station_config, wait_for
from tests.support.media import encode_video
from tests.support.rtsp import RtspServer, free_port
from tests.support.workers import running


def camera_status(client, name: str) -> dict:
    return next(c for c in client.get("/api/cameras").json() if c["name"] == name)


def test_server_killed_and_restarted_gives_offline_reason_quick_return_and_a_gap(tmp_path: Path,
                                                                                 make_station) -> None:
    server = RtspServer(["cam0"])
    server.start()
    try:
        config = station_config(tmp_path, [{"name": "cam0", "record_url": server.url("cam0")}],
                                ingest={"reconnect_max_seconds": 3.0})
        station, client = make_station(config)
        wait_for(lambda: len(station.index.segments("cam0", 0, 2**62)) >= 2, 20, "recording before the kill")

        server.kill()
        offline = wait_for(lambda: (s := camera_status(client, "cam0"))["status"] == "offline" and s, 15,
                           "offline status")
        assert offline["last_error"], "an offline camera says why"
        time.sleep(4)  # stay away long enough for the backoff to reach its cap

        server.start()
        back_at = time.monotonic()
        wait_for(lambda: camera_status(client, "cam0")["status"] == "online", 10, "camera back online")
        assert time.monotonic() - back_at <= 5.0
        before = len(station.index.segments("cam0", 0, 2**62))
        wait_for(lambda: len(station.index.segments("cam0", 0, 2**62)) >= before + 2, 20, "recording again")

        listing = client.get("/api/cameras/cam0/recordings").json()
        assert len(listing["ranges"]) >= 2
        first_end, last_start = listing["ranges"][0]["end"], listing["ranges"][-1]["start"]
        inner = [g for g in listing["gaps"] if first_end <= g["start"] < last_start]
        # the gap says why the recording stopped: the camera closed the connection (the status may already show
        # the failed reconnects that followed, as it did on a loaded machine)
        assert len(inner) == 1 and inner[0]["reason"] == STREAM_ENDED, inner
    finally:
        server.stop()


def test_bad_url_and_wrong_password_are_offline_while_others_record(tmp_path: Path, make_station) -> None:
    with RtspServer(["cam0", "cam1"], user="admin", password="right-pass") as server:
        config = station_config(tmp_path, [
            {"name": "good", "record_url": server.url("cam0", user="admin", password="right-pass")},
            {"name": "wrong-pass", "record_url": server.url("cam1", user="admin", password="wrong-pass")},
            {"name": "no-server", "record_url": f"rtsp://admin:secret-pw@127.0.0.1:{free_port()}/x"},
            {"name": "no-mount", "record_url": server.url("nothing", user="admin", password="right-pass")},
        ])
        station, client = make_station(config)
        wait_for(lambda: len(station.index.segments("good", 0, 2**62)) >= 2, 20, "the good camera recording")
        for name in ("wrong-pass", "no-server", "no-mount"):
            status = wait_for(lambda n=name: (s := camera_status(client, n))["status"] == "offline" and s, 15,
                              f"{name} offline")
            assert status["last_error"]
            assert station.index.segments(name, 0, 2**62) == []
        assert "401" in camera_status(client, "wrong-pass")["last_error"] or \
            "Unauthorized" in camera_status(client, "wrong-pass")["last_error"]
        for name in ("wrong-pass", "no-mount"):  # FFmpeg's tag for its own errors read as a system error number
            assert "Errno" not in camera_status(client, name)["last_error"], camera_status(client, name)
        assert "refused" in camera_status(client, "no-server")["last_error"].lower()
        body = client.get("/api/cameras").text
        assert "right-pass" not in body and "wrong-pass@" not in body and "secret-pw" not in body
        assert "admin:***@" in body
        assert camera_status(client, "good")["status"] == "online"
        assert camera_status(client, "good")["transport"] == "tcp"


@contextmanager
def silent_server() -> Iterator[int]:
    """A port that accepts TCP connections and never says a word: a camera whose RTSP service hangs."""
    listener = socket.create_server(("127.0.0.1", 0))
    held: list[socket.socket] = []

    def accept() -> None:
        while True:
            try:
                held.append(listener.accept()[0])
            except OSError:
                return

    threading.Thread(target=accept, daemon=True).start()
    try:
        yield listener.getsockname()[1]
    finally:
        listener.close()
        for connection in held:
            connection.close()


def test_udp_only_camera_is_read_over_udp_and_a_silent_one_is_said_to_time_out(tmp_path: Path,
                                                                                make_station) -> None:
    with RtspServer(["cam0"], udp_only=True) as server, silent_server() as port:
        config = station_config(tmp_path, [
            {"name": "auto", "record_url": server.url("cam0")},
            {"name": "tcp-only", "record_url": server.url("cam0"), "transport": "tcp"},
            {"name": "silent", "record_url": f"rtsp://127.0.0.1:{port}/x"},
        ], ingest={"connect_timeout_seconds": 3, "read_timeout_seconds": 1})  # the socket's read timeout fires first
        station, client = make_station(config)
        wait_for(lambda: len(station.index.segments("auto", 0, 2**62)) >= 1, 20, "the UDP camera recording")
        assert camera_status(client, "auto")["transport"] == "udp"
        refused = wait_for(lambda: (s := camera_status(client, "tcp-only"))["status"] == "offline" and s, 15,
                           "the camera refusing TCP")
        assert "refused RTP over TCP" in refused["last_error"] and "transport: udp" in refused["last_error"]
        silent = wait_for(lambda: (s := camera_status(client, "silent"))["status"] == "offline" and s, 15,
                          "the silent camera offline")
        assert silent["last_error"].endswith("did not answer within 1 s (timed out)"), silent["last_error"]


def test_hung_camera_is_reconnected_after_the_read_timeout(tmp_path: Path, make_station) -> None:
    with RtspServer(["cam0"]) as server:
        config = station_config(tmp_path, [{"name": "cam0", "record_url": server.url("cam0")}],
                                ingest={"read_timeout_seconds": 1, "connect_timeout_seconds": 1})
        station, client = make_station(config)
        wait_for(lambda: camera_status(client, "cam0")["status"] == "online", 15, "online")
        server.freeze()
        try:
            status = wait_for(lambda: (s := camera_status(client, "cam0"))["status"] == "offline" and s, 10,
                              "offline after the read timeout")
            # the cause stays while reconnect attempts fail (each replaces `last_error`, within a second or two)
            assert "read timeout" in status["offline_cause"], status
            assert status["last_error"] == status["offline_cause"] or status["last_error"].startswith(
                ("opening the stream failed", "the camera did not answer"))
            wait_for(lambda: station.report("cam0").in_progress is None, 5, "the segment open at the hang closed")
            on_disk = {p.relative_to(config.segments_dir).as_posix() for p in config.segments_dir.rglob("*.mp4")}
            wait_for(lambda: on_disk == {s.path for s in station.index.segments("cam0", 0, 2**62)}, 5, "and indexed")
            retried = wait_for(lambda: (s := camera_status(client, "cam0"))["last_error"] != status["offline_cause"]
                               and s, 10, "a reconnect attempt that fails while the camera hangs")
            assert retried["last_error"].startswith(("opening the stream failed", "the camera did not answer"))
            assert retried["offline_cause"] == status["offline_cause"]
        finally:
            server.thaw()
        back = wait_for(lambda: (s := camera_status(client, "cam0"))["status"] == "online" and s, 10,
                        "online after the thaw")
        assert back["offline_cause"] is None


def test_a_camera_failing_the_same_way_is_logged_once_not_at_every_attempt(
        tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    """A camera that stays unreachable wrote a warning at every attempt, 24 lines a minute each (an audit): the
    station's log drowned what else it said. The same failure is said once, then every 10 minutes."""
    failed: list[str | None] = []
    worker = StreamWorker("hem-9", "record", f"file://{tmp_path / 'gone.mp4'}", SourceOptions(), stall_seconds=10,
                          backoff=Backoff(0.05, 0.1), sinks=[], on_state=lambda _state, reason: failed.append(reason))
    with caplog.at_level(logging.WARNING, logger="ingest.worker"), running(worker, join_seconds=10):
        wait_for(lambda: len(failed) >= 5, 10, "five attempts")
    said = [record.getMessage() for record in caplog.records if "hem-9/record offline" in record.getMessage()]
    assert len(said) == 1, said


def test_a_recorder_that_hangs_leaves_its_cameras_unknown_not_online(
        tmp_path: Path, make_station: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """A frozen recorder is not restarted (it has not ended), and its cameras stayed online at their last frame
    rate while nothing was recorded (an audit, with SIGSTOP). Unheard of for the silence allowed, they are
    offline, saying why; heard again, online."""
    monkeypatch.setattr("nvr.station.REPORT_SILENT_SECONDS", 3.0)
    video = encode_video(tmp_path / "camera.mp4", seconds=10)
    station, client = make_station(station_config(tmp_path, [{"name": "ngo-3", "record_url": f"file://{video}"}]))
    wait_for(lambda: camera_status(client, "ngo-3")["status"] == "online", 20, "the camera online")
    recorder = station.recorder_pid("ngo-3")
    assert recorder is not None
    os.kill(recorder, signal.SIGSTOP)
    try:
        frozen = wait_for(lambda: (s := camera_status(client, "ngo-3"))["status"] == "offline" and s, 10,
                          "the camera offline once its recorder is silent")
        assert "its recorder process has not reported for" in frozen["last_error"] and frozen["fps"] == 0
        assert client.get("/api/health").json()["online"] == 0
    finally:
        os.kill(recorder, signal.SIGCONT)
    wait_for(lambda: camera_status(client, "ngo-3")["status"] == "online", 10, "online again once heard")
