"""config.yaml validation: each kind of mistake is named by its path in the file."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from nvr.config import ConfigError, load_config, parse_config

REPO = Path(__file__).resolve().parent.parent
GOOD_CAMERA = "  - {name: cam-1, record_url: 'rtsp://admin:secret@10.0.0.21:554/Streaming/Channels/101'}\n"


def problems(text: str, env: dict[str, str] | None = None) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        parse_config(text, env=env or {})
    return caught.value.problems


@pytest.mark.parametrize(("text", "expected"), [
    ("cameras: [\n  {name: a", "line 2, column 11: not valid YAML"),
    ("- just\n- a list\n", "(top level): must be a mapping"),
    ("cameras:\n  - {name: 'Hẻm 4', record_url: 'rtsp://h/x'}\n", "cameras[0].name: must be 1-63 characters"),
    ("cameras:\n" + GOOD_CAMERA + "  - {name: cam-2}\n", "cameras[1].record_url: Field required"),
    ("cameras:\n" + GOOD_CAMERA + "  - {name: cam-2, record_url: 'http://10.0.0.2/video'}\n",
     "cameras[1].record_url: unsupported scheme 'http'"),
    ("cameras:\n  - {name: c, record_url: 'rtsp:///Streaming/Channels/101'}\n",
     "cameras[0].record_url: is missing the camera's host name"),
    ("cameras:\n  - {name: c, record_url: 'rtsp://10.0.0.2:99999/x'}\n", "cameras[0].record_url: port must be"),
    ("cameras:\n  - {name: c, record_url: 'rtsp://10.0.0.2/x', detect_url: 'ftp://x'}\n",
     "cameras[0].detect_url: unsupported scheme 'ftp'"),
    ("cameras:\n" + GOOD_CAMERA + GOOD_CAMERA, "cameras: camera name 'cam-1' is used more than once"),
    ("storage: {segment_seconds: 0}\n", "storage.segment_seconds: Input should be greater than or equal to 1"),
    ("storage: {retain_days: -1}\n", "storage.retain_days: Input should be greater than 0"),
    ("storage: {max_bytes: many}\n", "storage.max_bytes: Input should be a valid integer"),
    ("storage: {retain_dayz: 3}\n", "storage.retain_dayz: unknown setting"),
    ("server: {port: 70000}\n", "server.port: Input should be less than or equal to 65535"),
    ("timezone: Asia/Hanoi_City\n", "timezone: unknown time zone 'Asia/Hanoi_City'"),
    ("database: {url: 'mysql://u@h/db'}\n", "database.url: only sqlite:/// and postgresql://"),
    ("database: {url: 'not a url'}\n", "database.url: not a database URL"),
    ("cameras:\n  - {name: c, record_url: 'rtsp://admin:${CAM_PASS}@10.0.0.2/x'}\n",
     "cameras[0].record_url: environment variable CAM_PASS is not set"),
    ("ingest: {reconnect_min_seconds: 5, reconnect_max_seconds: 1}\n",
     "ingest: reconnect_max_seconds must be >= reconnect_min_seconds"),
    ("cameras:\n  - {name: c, record_url: 'demo://'}\n", "cameras[0].record_url: demo:// URL is missing the scene"),
    ("cameras:\n  - {name: c, record_url: 'demo://beach'}\n", "cameras[0].record_url: unknown demo scene 'beach'"),
    ("cameras:\n  - {name: c, record_url: 'demo://alley', detect: {zones: [[[0, 0], [1, 1]]]}}\n",
     "cameras[0].detect: zones: a polygon needs at least 3 points"),
    ("cameras:\n  - {name: c, record_url: 'demo://alley', detect: {masks: [[[0, 0], [2, 0], [1, 1]]]}}\n",
     "cameras[0].detect: masks: polygon points must be normalized to 0..1"),
    ("cameras:\n  - {name: c, record_url: 'demo://alley', detect: {sensitivity: 3}}\n",
     "cameras[0].detect: sensitivity must be within 0..1"),
    ("cameras:\n  - {name: c, record_url: 'demo://alley', detect: {min_object_size: 0}}\n",
     "cameras[0].detect: min_object_size is a fraction of the frame"),
    ("cameras:\n  - {name: c, record_url: 'demo://alley', detect: {sensitivty: high}}\n",
     "cameras[0].detect.sensitivty: unknown setting"),
    ("detection: {pre_roll_seconds: -1}\n", "detection.pre_roll_seconds: Input should be greater than or equal to 0"),
    ("station: {id: 'Công an P.1'}\n", "station.id: must be 1-63 characters"),
    ("station: {title: \"Công an\\tphường\"}\n", "station.title: must be one line of printable text"),
    ("station: {name: p1}\n", "station.name: unknown setting"),
    ("metrics: {key: short-key}\n", "metrics.key: must be at least 16 printable characters without spaces"),
    ("metrics: {key: 'sixteen chars and a space'}\n", "metrics.key: must be at least 16 printable characters"),
    ("metrics: {keys: x}\n", "metrics.keys: unknown setting"),
    ("alerts: {offline_minutes: 0}\n", "alerts.offline_minutes: Input should be greater than 0"),
    ("alerts: {tamper_minutes: soon}\n", "alerts.tamper_minutes: Input should be a valid number"),
])
def test_each_mistake_is_named_by_its_path(text: str, expected: str) -> None:
    found = problems(text)
    assert any(p.startswith(expected) for p in found), found


def test_all_mistakes_are_reported_at_once() -> None:
    found = problems("server: {port: 0}\ntimezone: Nowhere\ncameras:\n  - {name: X, record_url: 'x://'}\n")
    paths = sorted(p.split(":")[0] for p in found)
    assert paths == ["cameras[0].name", "cameras[0].record_url", "server.port", "timezone"]


def test_environment_supplies_passwords_and_they_never_show_in_errors() -> None:
    config = parse_config("cameras:\n  - {name: c, record_url: 'rtsp://admin:${CAM_PASS}@10.0.0.2/x'}\n",
                          env={"CAM_PASS": "s3cr3t"})
    assert config.cameras[0].record_url == "rtsp://admin:s3cr3t@10.0.0.2/x"
    found = problems("cameras:\n  - {name: BAD, record_url: 'rtsp://admin:${P}@10.0.0.2/x'}\n", env={"P": "s3cr3t"})
    assert not any("s3cr3t" in p for p in found)


def test_defaults_and_relative_paths_follow_the_config_file(tmp_path: Path) -> None:
    config = parse_config("cameras: []\n", base=tmp_path)
    assert config.data_dir == (tmp_path / "data").resolve()
    assert config.database_url == f"sqlite:///{(tmp_path / 'data').resolve() / 'nvr.db'}"
    assert config.storage.segment_seconds == 60 and config.timezone == "Asia/Ho_Chi_Minh"
    explicit = parse_config("database: {url: 'sqlite:///data/nvr.db'}\n", base=tmp_path)
    assert explicit.database_url == f"sqlite:///{tmp_path}/data/nvr.db"


def test_missing_file_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot read the file"):
        load_config(tmp_path / "nope.yaml")


@pytest.mark.parametrize("name", ["config.yaml", "config.docker.yaml"])
def test_shipped_configs_are_valid(name: str) -> None:
    config = load_config(REPO / name)
    assert [c.record_url.split("://")[0] for c in config.cameras] == ["demo"] * 4


def test_check_config_command(tmp_path: Path) -> None:
    ok = subprocess.run([sys.executable, "-m", "nvr", "check-config", "--config", str(REPO / "config.yaml")],
                        capture_output=True, text=True, check=False)
    assert ok.returncode == 0 and "OK (4 cameras" in ok.stdout
    bad = tmp_path / "bad.yaml"
    bad.write_text("cameras:\n  - {name: c, record_url: 'rtsp://u:pw@h:0/x'}\n  - {name: c, record_url: 'x'}\n")
    result = subprocess.run([sys.executable, "-m", "nvr", "--config", str(bad), "check-config"],
                            capture_output=True, text=True, check=False)
    assert result.returncode == 2
    assert "cameras[0].record_url: port must be between 1 and 65535" in result.stderr
    assert "cameras[1].record_url: unsupported scheme" in result.stderr
    assert "pw" not in result.stderr


def test_the_metrics_key_comes_from_the_environment_and_never_shows() -> None:
    config = parse_config("metrics: {key: '${METRICS_KEY}'}\nalerts: {offline_minutes: 0.05, tamper_minutes: null}\n",
                          env={"METRICS_KEY": "k" * 24})
    assert config.metrics.key is not None and config.metrics.key.get_secret_value() == "k" * 24
    assert "k" * 24 not in repr(config) and "k" * 24 not in str(config.model_dump())
    assert config.alerts.limits() == {"camera_offline": 3.0}
    found = problems("metrics: {key: 'tiny-secret'}\n")
    assert not any("tiny-secret" in p for p in found), found
