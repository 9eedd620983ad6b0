"""The district server (`nvr district`) over two posts, each `nvr run` in its own process and data folder,
one real PostgreSQL (the shared catalog) and one real mosquitto: it lists every post with its health and every
camera with its status, and sees a camera of post b go offline within 10 s. Only district users (admins and
operators, by token or machine key) are let in; the posts' keys never reach its log."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from nvr.config import ConfigError
from nvr.district.config import load_district_config
from tests.conftest import wait_for
from tests.support.mosquitto import PASSWORD, USER, Mosquitto
from tests.support.postgres import PostgresServer
from tests.support.rtsp import RtspServer, free_port

POSTS = ("phuong-a", "phuong-b")


def start(args: list[str], log: Path, env: dict[str, str] | None = None) -> subprocess.Popen[bytes]:
    return subprocess.Popen([sys.executable, "-m", "nvr", *args], stdout=log.open("ab"), stderr=subprocess.STDOUT,
                            start_new_session=True, env={**os.environ, **(env or {})})


def post_config(folder: Path, post: str, port: int, database: str, broker: Mosquitto, camera: dict[str, Any]
                ) -> Path:
    folder.mkdir()
    path = folder / "config.yaml"
    path.write_text(yaml.safe_dump({
        "data_dir": "data", "station": {"id": post, "title": f"Công an {post}"},
        "server": {"host": "127.0.0.1", "port": port}, "database": {"url": database},
        "runtime": {"recorder_processes": 1}, "storage": {"segment_seconds": 2, "min_free_bytes": 0},
        "ingest": {"read_timeout_seconds": 3, "reconnect_min_seconds": 0.5, "reconnect_max_seconds": 2},
        "mqtt": {"host": "127.0.0.1", "port": broker.port, "username": USER, "password": PASSWORD,
                 "topic_prefix": f"nvr/{post}"},
        "cameras": [camera]}))
    return path


def nvr(config: Path, *args: str, stdin: str = "") -> str:
    return subprocess.run([sys.executable, "-m", "nvr", "--config", str(config), *args], input=stdin,
                          capture_output=True, text=True, timeout=60, check=True).stdout.strip()


def test_the_district_lists_every_post_and_camera_and_sees_a_camera_go_offline(
        cameras: RtspServer, postgres: PostgresServer, tmp_path: Path) -> None:
    database = f"district_{int(time.time() * 1000) % 1_000_000}"
    postgres.create_database(database)
    url = postgres.url(database)
    ports = {post: free_port() for post in POSTS}
    district_port = free_port()
    processes: list[subprocess.Popen[bytes]] = []
    with Mosquitto() as broker, RtspServer(["cong"]) as gate_camera:
        configs = {
            "phuong-a": post_config(tmp_path / "a", "phuong-a", ports["phuong-a"], url, broker,
                                    {"name": "cam0", "title": "Hẻm 4", "record_url": cameras.url("cam0"),
                                     "detect": {"enabled": False}}),
            "phuong-b": post_config(tmp_path / "b", "phuong-b", ports["phuong-b"], url, broker,
                                    {"name": "cong-b", "title": "Cổng chợ", "record_url": gate_camera.url("cong"),
                                     "detect": {"enabled": False}})}
        try:
            processes.extend(start(["--config", str(c), "run"], c.parent / "nvr.log") for c in configs.values())
            for post in POSTS:
                wait_for(lambda p=post: _answers(f"http://127.0.0.1:{ports[p]}/api/health"), 60, f"{post}'s API")
            nvr(configs["phuong-a"], "user", "add", "district", "--role", "operator", stdin="district-password\n")
            key = nvr(configs["phuong-a"], "user", "key", "district", "--label", "district")  # users are shared
            nvr(configs["phuong-a"], "user", "add", "nha-so-5", "--role", "viewer", stdin="household-pass\n")
            household = nvr(configs["phuong-a"], "user", "key", "nha-so-5")

            district_yaml = tmp_path / "district.yaml"
            district_yaml.write_text(yaml.safe_dump({
                "data_dir": "district-data", "server": {"host": "127.0.0.1", "port": district_port},
                "database": {"url": url},
                "mqtt": {"host": "127.0.0.1", "port": broker.port, "username": USER, "password": PASSWORD},
                "stations": [{"id": post, "url": f"http://127.0.0.1:{ports[post]}", "api_key": "${KEY_DISTRICT}",
                              "title": f"Công an {post}"} for post in POSTS]}))
            processes.append(start(["district", "--config", str(district_yaml)], tmp_path / "district.log",
                                   env={"KEY_DISTRICT": key}))
            base = f"http://127.0.0.1:{district_port}"
            wait_for(lambda: _answers(f"{base}/api/health"), 60, "the district's API")
            headers = {"Authorization": f"Bearer {key}"}

            def stations() -> list[dict[str, Any]]:
                return httpx.get(f"{base}/api/stations", headers=headers, timeout=10).json()

            def camera_list() -> list[dict[str, Any]]:
                return httpx.get(f"{base}/api/cameras", headers=headers, timeout=10).json()

            wait_for(lambda: all(s["reachable"] and s["cameras_online"] == 1 for s in stations()), 30,
                     "both posts reachable with their camera online")
            listed = stations()
            assert [(s["id"], s["title"], s["cameras_total"], s["mqtt"]) for s in listed] == [
                ("phuong-a", "Công an phuong-a", 1, "online"), ("phuong-b", "Công an phuong-b", 1, "online")]
            assert all(s["last_seen"] and s["oldest"] and s["disk_days_kept"] >= 0 for s in listed)
            assert camera_list() == [
                {"station": "phuong-a", "name": "cam0", "title": "Hẻm 4", "status": "online"},
                {"station": "phuong-b", "name": "cong-b", "title": "Cổng chợ", "status": "online"}]

            gate_camera.stop()
            stopped = time.monotonic()
            wait_for(lambda: {c["name"]: c["status"] for c in camera_list()} == {"cam0": "online",
                                                                                 "cong-b": "offline"},
                     10, "post b's camera offline in the district")
            print(f"post b's camera shown offline by the district {time.monotonic() - stopped:.1f} s after it went")

            assert httpx.get(f"{base}/api/cameras", timeout=10).status_code == 401
            assert httpx.get(f"{base}/api/cameras", headers={"Authorization": f"Bearer {household}"},
                             timeout=10).status_code == 403
        finally:
            for process in reversed(processes):
                process.send_signal(signal.SIGTERM)
            for process in processes:
                process.wait(60)
    district_log = (tmp_path / "district.log").read_text()
    assert key not in district_log and "Traceback" not in district_log, district_log[-3000:]


def test_a_district_configuration_names_every_problem(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("KEY_NOWHERE", raising=False)
    path = tmp_path / "district.yaml"
    link = {"id": "phuong-a", "url": "https://10.1.2.3:8080", "api_key": "${KEY_NOWHERE}"}
    path.write_text(yaml.safe_dump({"stations": [link, {**link, "url": "10.1.2.4"}]}))
    with pytest.raises(ConfigError) as failed:
        load_district_config(path)
    problems = str(failed.value)
    assert "stations[0].api_key: environment variable KEY_NOWHERE is not set" in problems
    assert "database: Field required" in problems
    assert "stations[1].url: must be the box's address" in problems
    monkeypatch.setenv("KEY_NOWHERE", "nvrk_" + "k" * 43)
    path.write_text(yaml.safe_dump({"database": {"url": "postgresql://db/catalog"}, "stations": [link, link]}))
    with pytest.raises(ConfigError, match="listed more than once"):
        load_district_config(path)
    path.write_text(yaml.safe_dump({"database": {"url": "postgresql://db/catalog"}, "stations": [link]}))
    config = load_district_config(path)
    assert config.stations[0].prefix == "nvr/phuong-a" and config.data_dir == tmp_path / "district-data"
    assert "nvrk_" not in repr(config)


def _answers(url: str) -> bool:
    try:
        return httpx.get(url, timeout=2).status_code == 200
    except httpx.HTTPError:
        return False
