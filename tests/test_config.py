"""config.yaml validation: each kind of mistake is named by its path in the file."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from ingest.urls import redact_text
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
    ("server: {max_live_views_per_user: 0}\n",
     "server.max_live_views_per_user: Input should be greater than or equal to 1"),
    ("server: {max_websockets_per_user: lots}\n", "server.max_websockets_per_user: Input should be a valid integer"),
    ("server: {live_connect_timeout_seconds: 0}\n",
     "server.live_connect_timeout_seconds: Input should be greater than 0"),
    ("server: {trusted_proxies: [10.0.0.1, '*']}\n",
     "server.trusted_proxies[1]: '*' is not an IP address or network (e.g. 192.168.1.10 or 10.0.0.0/8)"),
    ("timezone: Asia/Hanoi_City\n", "timezone: unknown time zone 'Asia/Hanoi_City'"),
    ("database: {url: 'mysql://u@h/db'}\n", "database.url: only sqlite:/// and postgresql://"),
    ("database: {url: 'not a url'}\n", "database.url: not a database URL"),
    ("cameras:\n  - {name: c, record_url: 'rtsp://admin:${CAM_PASS}@10.0.0.2/x'}\n",
     "cameras[0].record_url: environment variable CAM_PASS is not set"),
    ("ingest: {reconnect_min_seconds: 5, reconnect_max_seconds: 1}\n",
     "ingest: reconnect_max_seconds must be >= reconnect_min_seconds"),
    ("runtime: {station_nice: 10, detector_nice: 5}\n", "runtime: detector_nice must be >= station_nice"),
    ("cameras:\n  - {name: c, record_url: 'demo://'}\n", "cameras[0].record_url: demo:// URL is missing the scene"),
    ("cameras:\n  - {name: c, record_url: 'demo://beach'}\n", "cameras[0].record_url: unknown demo scene 'beach'"),
    ("cameras:\n  - {name: c, record_url: 'demo://admin:DemoPw6@beach'}\n",  # the password not repeated
     "cameras[0].record_url: unknown demo scene 'admin:***@beach'"),
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
    ("mqtt: {port: 1883}\n", "mqtt.host: Field required"),
    ("mqtt: {host: 'broker local'}\n", "mqtt.host: must be the broker's host name or address"),
    ("mqtt: {host: b, port: 0}\n", "mqtt.port: Input should be greater than or equal to 1"),
    ("mqtt: {host: b, topic_prefix: 'nvr/#'}\n", "mqtt.topic_prefix: must be MQTT topic levels"),
    ("mqtt: {host: b, topic_prefix: 'nvr//p1'}\n", "mqtt.topic_prefix: must be MQTT topic levels"),
    ("mqtt: {host: b, password: pw-only}\n", "mqtt: a password needs a username"),
    ("mqtt: {host: b, tls: maybe}\n", "mqtt.tls: Input should be a valid boolean"),
    ("mqtt: {host: b, qos: 2}\n", "mqtt.qos: unknown setting"),
    ("webhooks: [{secret: 0123456789abcdef}]\n", "webhooks[0].url: Field required"),
    ("webhooks: [{url: 'ftp://h/x', secret: 0123456789abcdef}]\n", "webhooks[0].url: unsupported scheme 'ftp'"),
    ("webhooks: [{url: 'h/x', secret: 0123456789abcdef}]\n", "webhooks[0].url: must be an absolute http://"),
    ("webhooks: [{url: 'https:///x', secret: 0123456789abcdef}]\n", "webhooks[0].url: is missing the host name"),
    ("webhooks: [{url: 'https://h:0/x', secret: 0123456789abcdef}]\n", "webhooks[0].url: port must be 1-65535"),
    ("webhooks: [{url: 'https://h/x'}]\n", "webhooks[0].secret: Field required"),
    ("webhooks: [{url: 'https://h/x', secret: short}]\n", "webhooks[0].secret: must be at least 16 characters"),
    ("webhooks: [{url: 'https://h/x', secret: 0123456789abcdef, cameras: [Hem 4]}]\n",
     "webhooks[0].cameras[0]: must be 1-63 characters"),
    ("webhooks: [{url: 'https://h/x', secret: 0123456789abcdef, types: [moton]}]\n",
     "webhooks[0].types[0]: Input should be 'motion', 'night_mode'"),
    ("server: {public_url: 'ftp://nvr.local'}\n", "server.public_url: unsupported scheme 'ftp'"),
    ("metrics: {key: short-key}\n", "metrics.key: must be at least 16 printable characters without spaces"),
    ("metrics: {key: 'sixteen chars and a space'}\n", "metrics.key: must be at least 16 printable characters"),
    ("metrics: {keys: x}\n", "metrics.keys: unknown setting"),
    ("alerts: {offline_minutes: 0}\n", "alerts.offline_minutes: Input should be greater than 0"),
    ("alerts: {tamper_minutes: soon}\n", "alerts.tamper_minutes: Input should be a valid number"),
    # a second block pasted below the first: YAML would keep the last without a word
    ("storage: {retain_days: 60}\ncameras: []\nstorage: {retain_days: 30}\n",
     "line 3, column 1: not valid YAML: 'storage' is given twice in one mapping"),
    ("cameras:\n  - name: c\n    record_url: 'demo://alley'\n    record_url: 'demo://crossroad'\n",
     "line 4, column 5: not valid YAML: 'record_url' is given twice"),
    ("data_dir: \"/srv/a\\0b\"\n", "data_dir: must not hold control characters"),
    ("storage: {retain_days: .inf}\n", "storage.retain_days: Input should be a finite number"),
    ("storage: {events_days: 1e12}\n", "storage.events_days: Input should be less than or equal to 36500"),
    ("cameras:\n  - {name: c, record_url: 'demo://alley', detect: {max_fps: .nan}}\n",
     "cameras[0].detect.max_fps: Input should be a finite number"),
    ("cameras:\n  - {name: c, record_url: \"rtsp://10.0.0.2/x\\0\"}\n", "cameras[0].record_url: must not hold control"),
    # a '/' or '#' in a password ends the URL's address: FFmpeg would look for the camera at part of the password
    ("cameras:\n  - {name: c, record_url: 'rtsp://admin:2024/0905@10.0.0.1/x'}\n",
     "cameras[0].record_url: '/' before the URL's last '@' would end the camera's address there"),
    ("cameras:\n  - {name: c, record_url: 'rtsp://admin:Pq@rs/tu:vw#9@10.0.0.1:554/x'}\n",
     "cameras[0].record_url: '/' and '#' before the URL's last '@'"),
    ("station: {id: district}\n", "station.id: 'district' is the district's own id"),
    ("cameras:\n  - {name: c, record_url: 'rtsp://admin:pw@ho st/x'}\n",
     "cameras[0].record_url: the camera's host name must not hold spaces"),
])
def test_each_mistake_is_named_by_its_path(text: str, expected: str) -> None:
    found = problems(text)
    assert any(p.startswith(expected) for p in found), found


@pytest.mark.parametrize("url", ["rtsp://admin:p@ss@10.0.0.1/x", "rtsp://admin:p%2Fss%23@10.0.0.1/x",
                                 "rtsp://10.0.0.1/x?owner=a@b", "rtsp://10.0.0.1/a/b@c"])
def test_a_raw_at_sign_in_a_password_and_one_in_a_query_or_path_are_accepted(url: str) -> None:
    assert parse_config(f"cameras:\n  - {{name: c, record_url: '{url}'}}\n").cameras[0].record_url == url


def test_a_password_that_would_end_the_address_is_refused_without_repeating_it() -> None:
    found = problems("cameras:\n  - {name: c, record_url: 'rtsp://admin:${P}@10.255.255.1:554/x'}\n",
                     env={"P": "Pq@rs/tu:vw#9"})
    assert len(found) == 1 and "write '/' as %2F and '#' as %23" in found[0], found
    assert not any(piece in found[0] for piece in ("Pq", "rs/", "tu:vw")), found


def test_every_mistake_of_a_camera_s_detection_is_reported_at_once() -> None:
    """They came one a run (found in review: an installer went round three times)."""
    [found] = problems("cameras:\n  - {name: c, record_url: 'demo://alley', detect: {min_object_size: -1, max_fps: 0,"
                       " sensitivity: 7, zones: [[[0, 0], [1, 1]]]}}\n")
    assert found.startswith("cameras[0].detect: zones: a polygon needs at least 3 points"), found
    assert all(part in found for part in ("sensitivity must be within 0..1", "min_object_size is a fraction",
                                          "max_fps must be positive")), found


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


def test_integrations_default_off_and_their_secrets_never_show() -> None:
    assert parse_config("cameras: []\n").mqtt is None and parse_config("cameras: []\n").webhooks == []
    config = parse_config("mqtt: {host: broker.local, username: nvr, password: '${MQTT_PASS}', tls: true}\n"
                          "webhooks: [{url: 'https://district.example/hook', secret: '${HOOK_SECRET}'}]\n",
                          env={"MQTT_PASS": "mqtt-pass-123", "HOOK_SECRET": "hook-secret-0123456789"})
    assert config.mqtt is not None and config.mqtt.topic_prefix == "nvr" and config.mqtt.broker_port == 8883
    assert config.mqtt.password is not None and config.mqtt.password.get_secret_value() == "mqtt-pass-123"
    assert config.webhooks[0].secret.get_secret_value() == "hook-secret-0123456789"
    shown = repr(config) + str(config.model_dump())
    assert "mqtt-pass-123" not in shown and "hook-secret-0123456789" not in shown
    assert redact_text("connecting with mqtt-pass-123, signing with hook-secret-0123456789") == \
        "connecting with ***, signing with ***", "registered: hidden in every log line"
    found = problems("mqtt: {host: 'bad host', password: '${P}'}\n", env={"P": "mqtt-pass-456"})
    assert not any("mqtt-pass-456" in p for p in found)
    assert parse_config("mqtt: {host: b}\n").mqtt.broker_port == 1883  # type: ignore[union-attr]
    assert parse_config("server: {host: 127.0.0.1, port: 8080}\n").server.base_url == "http://127.0.0.1:8080"
    assert parse_config("server: {public_url: 'https://nvr.example/'}\n").server.base_url == "https://nvr.example"


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


def test_a_file_not_in_utf8_is_a_clear_error(tmp_path: Path) -> None:
    for name, encoding in (("notepad-unicode.yaml", "utf-16"), ("legacy.yaml", "latin-1")):
        path = tmp_path / name
        path.write_text("station: {title: 'Công an'}\n" if encoding == "utf-16" else "station: {title: 'Côte'}\n",
                        encoding=encoding)
        with pytest.raises(ConfigError, match=r"not UTF-8 text \(byte 0x[0-9a-f]{2} at offset \d+\): save the file"):
            load_config(path)


def test_merge_keys_may_still_be_overridden() -> None:
    config = parse_config("storage:\n  <<: {retain_days: 60, events_days: 90}\n  retain_days: 10\n")
    assert config.storage.retain_days == 10 and config.storage.events_days == 90


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
    (tmp_path / "data-file").write_text("not a folder")
    beside = tmp_path / "beside.yaml"
    beside.write_text("data_dir: data-file\ncameras: []\n")
    for command in ("check-config", "run"):
        refused = subprocess.run([sys.executable, "-m", "nvr", "--config", str(beside), command],
                                 capture_output=True, text=True, check=False, timeout=60)
        assert refused.returncode == 2 and "Traceback" not in refused.stderr, refused.stderr
        assert re.search(r"data-file (as the data folder: it )?is a file, not a folder", refused.stderr), refused.stderr


def test_the_metrics_key_comes_from_the_environment_and_never_shows() -> None:
    config = parse_config("metrics: {key: '${METRICS_KEY}'}\nalerts: {offline_minutes: 0.05, tamper_minutes: null}\n",
                          env={"METRICS_KEY": "k" * 24})
    assert config.metrics.key is not None and config.metrics.key.get_secret_value() == "k" * 24
    assert "k" * 24 not in repr(config) and "k" * 24 not in str(config.model_dump())
    assert config.alerts.limits() == {"camera_offline": 3.0}
    found = problems("metrics: {key: 'tiny-secret'}\n")
    assert not any("tiny-secret" in p for p in found), found
