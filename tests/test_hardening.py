"""Hardening, tried as an outsider against the real server (uvicorn): absurd inputs get a 4xx naming the
parameter, camera passwords with quotes and spaces and the WebSocket's token stay out of every output and
log line, security headers, docs for logged-in users only, a login throttle that keeps no guesser's
records for ever and locks nobody out, X-Forwarded-For only from trusted proxies; `check-config` and
`nvr clip` answer every mistake in one line."""

from __future__ import annotations

import io
import logging
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any, cast

import httpx
import pytest
import yaml
from fastapi.testclient import TestClient
from pydantic import BaseModel
from websockets.exceptions import InvalidStatus
from websockets.sync.client import connect

from api.app import create_app
from nvr.config import Config, ServerConfig
from nvr.login_limiter import LoginLimiter
from nvr.station import Station
from storage.clock import now_ms
from tests.conftest import OPERATOR, OPERATOR_PASSWORD, ManualClock, station_config, wait_for
from tests.support.media import encode_video
from tests.support.rtsp import free_port
from tests.support.web import serving

# a factory-set camera whose installer typed quotes, a space and an '@' into its password
SECRET = "Qz9 k'\"x@7vB!"
SECRET_PIECES = ("Qz9", "7vB")  # what a pattern that stops at the space or a quote would leave behind
VIEWER, VIEWER_PASSWORD = "nha-so-5", "household-pass"
# where logins come from, as a trusted proxy reports them (documentation address ranges)
POST_PC, HOME, GUESSER, NEW_PHONE = "192.0.2.10", "198.51.100.5", "203.0.113.66", "198.51.100.7"


@pytest.fixture(scope="module")
def station(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Station]:
    work = tmp_path_factory.mktemp("hardening")
    video = encode_video(work / "camera.mp4", seconds=6)
    station = Station(station_config(work, [{"name": "cam0", "record_url": f"file://{video}"}],
                                     runtime={"recorder_processes": 1}))
    station.start()
    try:
        assert station.wait_ready(30), "the recorder process did not come up"
        station.accounts.add(OPERATOR, OPERATOR_PASSWORD, "operator")
        station.accounts.add(VIEWER, VIEWER_PASSWORD, "viewer")
        station.accounts.grant(VIEWER, ["cam0"])
        wait_for(lambda: station.index.segments("cam0", 0, 2**62), 20, "footage of cam0")
        yield station
    finally:
        station.stop()


@pytest.fixture
def clock(station: Station, monkeypatch: pytest.MonkeyPatch) -> ManualClock:
    """A fresh login limiter (the module's station is shared) on a clock the test moves."""
    clock = ManualClock()
    monkeypatch.setattr(station, "login_limiter", LoginLimiter(clock=clock))
    return clock


def log_in(client: httpx.Client, username: str, password: str, address: str | None = None) -> httpx.Response:
    """A login; `address`: the client's, as a proxy in front of the station reports it."""
    headers = {"X-Forwarded-For": address} if address else {}
    return client.post("/api/auth/login", json={"username": username, "password": password}, headers=headers)


def token_for(base: str, username: str, password: str) -> str:
    answer = httpx.post(f"{base}/api/auth/login", json={"username": username, "password": password})
    answer.raise_for_status()
    return str(answer.json()["token"])


ABSURD_INSTANTS = ["inf", "-inf", "Infinity", "nan", "1" * 5000, "1e20", "-1e20", "-5", "0001-01-01T00:00:00"]


def test_absurd_values_get_a_4xx_naming_the_parameter(station: Station) -> None:
    with serving(station) as base, httpx.Client(base_url=base, timeout=10) as client:
        client.headers["Authorization"] = f"Bearer {token_for(base, 'admin', os.environ['NVR_ADMIN_PASSWORD'])}"
        routes = ["/api/events", "/api/audit", "/api/cameras/cam0/recordings", "/api/cameras/cam0/clip.mp4"]
        for route in routes:
            for value in ABSURD_INSTANTS:
                for parameter, other in (("start", "end"), ("end", "start")):
                    answer = client.get(route, params={parameter: value, other: "1795000000"})
                    assert answer.status_code == 400, (route, parameter, value[:20], answer.text[:200])
                    detail = answer.json()["detail"]
                    assert detail.startswith(f"{parameter}: "), (route, detail)
                    assert len(detail) < 300  # a 5,000-digit number is not echoed back
        assert client.get("/api/events", params={"start": "1795000000", "end": "1795003600"}).status_code == 200
        for event_id in (str(2**63), str(2**64), str(2**31), "-1", "0", "9" * 5000):
            for route in ("", "/snapshot.jpg", "/clip.mp4"):
                answer = client.get(f"/api/events/{event_id}{route}")
                assert answer.status_code == 422, (event_id, route, answer.text[:200])
                assert answer.json()["detail"][0]["loc"] == ["path", "event_id"]
        assert client.get("/api/events/2147483647").status_code == 404  # the largest id there could be


def test_a_refused_body_never_echoes_what_was_sent(station: Station) -> None:
    """A password under a misspelt field or of the wrong type, a camera URL with its password where a string
    was expected: the 422 names the field, never the value."""
    url = f"rtsp://admin:{SECRET}@10.0.0.21:554/Streaming/Channels/101"
    with serving(station) as base, httpx.Client(base_url=base, timeout=10) as client:
        admin = {"Authorization": f"Bearer {token_for(base, 'admin', os.environ['NVR_ADMIN_PASSWORD'])}"}
        refused = [
            ("/api/auth/login", {"username": "admin", "pasword": SECRET}, {}, ["body", "password"]),
            ("/api/auth/login", {"username": "admin", "password": [SECRET]}, {}, ["body", "password"]),
            ("/api/users", {"username": "u", "password": SECRET, "role": "chief"}, admin, ["body", "role"]),
            ("/api/users/admin/password", {"new_password": SECRET}, admin, ["body", "password"]),
            ("/api/cameras", {"name": "cam9", "record_url": [url]}, admin, ["body", "record_url"]),
        ]
        for route, body, headers, loc in refused:
            answer = client.post(route, json=body, headers=headers)
            assert answer.status_code == 422, (route, answer.text)
            assert loc in [error["loc"] for error in answer.json()["detail"]], (route, answer.text)
            assert not any(piece in answer.text for piece in SECRET_PIECES), (route, answer.text)


def test_a_validation_error_raised_inside_a_route_is_a_422_that_echoes_nothing(station: Station) -> None:
    """pydantic's ValidationError is a ValueError, whose text repeats the refused value: a route that lets one
    through (a model built from stored or received data) answers 422 naming the field, not that text."""
    class Login(BaseModel):
        password: int

    app = create_app(station)

    @app.get("/api/raises-a-validation-error")
    def raises() -> None:
        Login.model_validate({"password": SECRET})

    answer = TestClient(app).get("/api/raises-a-validation-error")
    assert answer.status_code == 422 and answer.json()["detail"][0]["loc"] == ["password"], answer.text
    assert not any(piece in answer.text for piece in SECRET_PIECES), answer.text


def test_camera_password_with_quotes_and_spaces_never_shows(capfd: pytest.CaptureFixture[str], tmp_path: Path,
                                                            make_station, logged: io.StringIO) -> None:
    # started here, under capfd: the recorder process's log lines (its stderr) are captured too
    locked = f"rtsp://admin:{SECRET}@127.0.0.1:{free_port()}/Streaming/Channels/101"  # nobody listens there
    queried = f"rtsp://127.0.0.1:{free_port()}/live?user=admin&password=Wq7Rt2Lp9"  # the login in the query
    station, _client = make_station(station_config(tmp_path, [{"name": "locked", "record_url": locked},
                                                              {"name": "queried", "record_url": queried}],
                                                   runtime={"recorder_processes": 1}))
    with serving(station) as base:
        headers = {"Authorization": f"Bearer {token_for(base, OPERATOR, OPERATOR_PASSWORD)}"}

        def refused() -> dict[str, Any]:
            camera: dict[str, Any] = httpx.get(f"{base}/api/cameras/locked", headers=headers).json()
            return camera if "refused" in (camera["last_error"] or "").lower() else {}

        camera = wait_for(refused, 20, "the locked camera's connection refused")
        logs: list[str] = []  # the recorder process logs the failure once (then every 10 minutes while it lasts)

        def offline_lines() -> int:
            logs.append(capfd.readouterr().err)
            return "".join(logs).count("locked/record offline: opening the stream failed")

        wait_for(lambda: offline_lines() >= 1, 15, "the offline log line of the locked camera")
        body = httpx.get(f"{base}/api/cameras", headers=headers).text
    url = f"rtsp://admin:{SECRET}@127.0.0.1/x"
    logging.getLogger("nvr.test").warning("an error quoting the URL: %r", ValueError(url))
    try:
        raise OSError(f"Connection refused: {url!r}")
    except OSError:
        logging.getLogger("nvr.test").exception("unexpected ingest error")
    logs.append(capfd.readouterr().err)
    recorder, ours = "".join(logs), logged.getvalue()
    assert camera["record_url"].startswith("rtsp://admin:***@127.0.0.1:")
    assert "Wq7Rt2Lp9" not in body + recorder + ours and "password=***" in body
    assert "Connection refused" in camera["last_error"] and "admin:***@" in camera["last_error"]
    assert "an error quoting the URL" in ours and "unexpected ingest error" in ours and "Traceback" in ours
    for text in (camera["last_error"], body, recorder, ours):
        assert SECRET not in text
        for piece in SECRET_PIECES:
            assert piece not in text, text[-3000:]


def test_websocket_token_never_reaches_the_access_log(station: Station, logged: io.StringIO) -> None:
    with serving(station, log_level="info") as base:
        token = token_for(base, VIEWER, VIEWER_PASSWORD)
        with connect(f"{base.replace('http', 'ws', 1)}/api/events/ws?token={token}", open_timeout=10) as socket:
            socket.ping().wait(5)
        with pytest.raises(InvalidStatus):  # refused before accepting (403)
            connect(f"{base.replace('http', 'ws', 1)}/api/events/ws?token=not-{token}", open_timeout=10)
        httpx.get(f"{base}/api/health", params={"token": token, "password": "hunter22"})
    err = logged.getvalue()
    assert "/api/events/ws?token=***" in err and "/api/health?token=***&password=***" in err, err[-3000:]
    assert token not in err and "hunter22" not in err


def test_frames_caching_and_docs_only_for_logged_in_users(station: Station) -> None:
    with serving(station) as base, httpx.Client(base_url=base, timeout=10) as client:
        for path in ("/", "/ui/app.js", "/api/health", "/api/cameras", "/docs", "/nothing"):
            assert client.get(path).headers["x-frame-options"] == "DENY", path
        assert client.get("/api/health").headers["cache-control"] == "no-store"
        assert client.get("/api/cameras").headers["cache-control"] == "no-store"  # a 401 too
        for path in ("/docs", "/redoc", "/openapi.json"):
            assert client.get(path).status_code == 401, path
        token = token_for(base, VIEWER, VIEWER_PASSWORD)
        client.cookies.clear()
        client.headers["Authorization"] = f"Bearer {token}"
        assert client.get("/openapi.json").json()["info"]["title"] == "Station NVR"
        assert "swagger" in client.get("/docs").text.lower() and "redoc" in client.get("/redoc").text.lower()
        for path in ("/api/cameras", "/api/auth/me", "/api/events", "/api/cameras/cam0/recordings"):
            answer = client.get(path)
            assert answer.status_code == 200 and answer.headers["cache-control"] == "no-store", path
        event = station.events.open("cam0", "motion", station.index.segments("cam0", 0, 2**62)[0].start_ms, 0.5, [])
        station.snapshots_dir.mkdir(parents=True, exist_ok=True)
        (station.snapshots_dir / "h.jpg").write_bytes(b"\xff\xd8\xff\xd9")
        station.events.update(event.id, snapshot="h.jpg")
        picture = client.get(f"/api/events/{event.id}/snapshot.jpg")
        assert picture.status_code == 200 and picture.headers["cache-control"] == "no-store"
    public_config = Config.model_validate({"server": {"public_docs": True}})
    public = TestClient(create_app(cast(Station, _ConfigOnly(public_config))))
    assert public.get("/openapi.json").status_code == 200 and public.get("/docs").status_code == 200


class _ConfigOnly:
    """Enough of a station for the app to be built: the documentation routes touch nothing else."""

    def __init__(self, config: Config) -> None:
        self.config = config


def test_a_change_with_the_session_cookie_from_another_page_is_refused(station: Station) -> None:
    """CSRF: another page of the same host (another port is the same site, so SameSite=Strict lets the cookie
    through) posts a form to the station with the officer's cookie: refused, and the session lives on."""
    with serving(station) as base, httpx.Client(base_url=base) as browser:
        login = browser.post("/api/auth/login", json={"username": OPERATOR, "password": OPERATOR_PASSWORD})
        assert login.status_code == 200 and browser.cookies.get("nvr_session")
        elsewhere = {"Origin": "http://127.0.0.1:9999"}
        refused = browser.post("/api/auth/logout", headers=elsewhere)
        assert refused.status_code == 403 and "Origin" in refused.json()["detail"]
        assert browser.post("/api/auth/logout").status_code == 403, "no Origin nor Referer: not the station's page"
        assert browser.get("/api/auth/me").status_code == 200, "the session lives on; reading is fine"
        machine = httpx.post(f"{base}/api/auth/logout", headers={"Authorization": f"Bearer {login.json()['token']}"})
        assert machine.status_code == 200, "a bearer token is no cookie: machines need no Origin"
        again = browser.post("/api/auth/login", json={"username": OPERATOR, "password": OPERATOR_PASSWORD})
        own = browser.post("/api/auth/logout", headers={"Origin": base})
        assert again.status_code == 200 and own.status_code == 200, "the station's own page logs out"


def test_over_long_names_are_refused_before_any_work(station: Station, clock: ManualClock) -> None:
    """200 logins with 256 KB names kept 30 MB for ever: now no name is longer than an account's may be."""
    since = now_ms()
    with serving(station) as base, httpx.Client(base_url=base, timeout=10) as client:
        for _ in range(50):
            answer = log_in(client, "x" * 256 * 1024, "not-the-password")
            assert answer.status_code == 422 and answer.json()["detail"][0]["loc"] == ["body", "username"]
        assert log_in(client, "x" * 64, "not-the-password").status_code == 401  # the longest name an account has
    assert station.login_limiter.records() == 2  # its count from that address, and for the name
    assert [e.username for e in station.audit.entries(start_ms=since, end_ms=2**62)] == ["x" * 64]


def test_a_block_shows_how_long_to_wait_and_is_audited_once(station: Station, clock: ManualClock) -> None:
    since = now_ms()
    with serving(station) as base, httpx.Client(base_url=base, timeout=10) as client:
        for _ in range(5):
            assert log_in(client, OPERATOR, "not-the-password").status_code == 401
        for _ in range(20):
            refused = log_in(client, OPERATOR, OPERATOR_PASSWORD)
            assert refused.status_code == 429 and refused.headers["retry-after"] == "300"
            assert refused.json()["detail"] == "too many failed logins; try again in 300 s"
        clock.now += 120
        assert log_in(client, OPERATOR, OPERATOR_PASSWORD).headers["retry-after"] == "180"
        clock.now += 180
        assert log_in(client, OPERATOR, OPERATOR_PASSWORD).status_code == 200
    blocks = station.audit.entries(start_ms=since, end_ms=2**62, action="login_blocked")
    assert [(e.username, e.remote, e.detail) for e in blocks] == [
        (OPERATOR, "127.0.0.1", "300 s for this name from this address")]


def test_a_guesser_cannot_lock_out_the_post(station: Station, clock: ManualClock) -> None:
    """Throttled per name and address, and per name with a short backoff that the addresses a name has
    logged in from skip (design/security.md). The addresses come from a trusted proxy."""
    admin_password = os.environ["NVR_ADMIN_PASSWORD"]
    proxied = ServerConfig(trusted_proxies=["127.0.0.1"])
    with serving(station, server_config=proxied) as base, httpx.Client(base_url=base, timeout=10) as client:
        # the post's shared PC: a household's five wrong passwords keep the administrator out neither there
        # nor the household at home
        for _ in range(5):
            assert log_in(client, VIEWER, "not-the-password", POST_PC).status_code == 401
        assert log_in(client, VIEWER, VIEWER_PASSWORD, POST_PC).status_code == 429
        assert log_in(client, "admin", admin_password, POST_PC).status_code == 200
        assert log_in(client, VIEWER, VIEWER_PASSWORD, HOME).status_code == 200

        # one address guesses the administrator's password: only that address waits
        for _ in range(5):
            assert log_in(client, "admin", "a-good-guess", GUESSER).status_code == 401
        assert log_in(client, "admin", admin_password, GUESSER).status_code == 429
        assert log_in(client, "admin", admin_password, NEW_PHONE).status_code == 200, "a first login from there"

        # many addresses guess: from the name's tenth failure each one makes the next wait, 1 s doubling to 60 s
        waits = []
        for n in range(13):
            guess = log_in(client, "admin", "a-good-guess", f"203.0.113.{n}")
            if guess.status_code == 429:
                waits.append(int(guess.headers["retry-after"]))
                clock.now += waits[-1]
                guess = log_in(client, "admin", "a-good-guess", f"203.0.113.{n}")
            assert guess.status_code == 401
        assert waits == [1, 2, 4, 8, 16, 32, 60, 60]

        # an address the name never logged in from waits that minute at most; the post's PC does not wait
        stranger = log_in(client, "admin", admin_password, "198.51.100.8")
        assert stranger.status_code == 429 and stranger.headers["retry-after"] == "60"
        assert log_in(client, "admin", admin_password, POST_PC).status_code == 200
        assert log_in(client, "admin", admin_password, NEW_PHONE).status_code == 200
        clock.now += 60
        assert log_in(client, "admin", admin_password, "198.51.100.8").status_code == 200


def test_x_forwarded_for_is_believed_only_from_trusted_proxies(station: Station, clock: ManualClock) -> None:
    since = now_ms()
    with serving(station) as base, httpx.Client(base_url=base, timeout=10) as client:
        for n in range(5):
            assert log_in(client, OPERATOR, "not-the-password", f"203.0.113.{n}").status_code == 401
        refused = log_in(client, OPERATOR, OPERATOR_PASSWORD, "203.0.113.9")
        assert refused.status_code == 429, "a new X-Forwarded-For is no new address"
    proxied = ServerConfig(trusted_proxies=["10.0.0.0/8", "127.0.0.0/8"])
    with serving(station, server_config=proxied) as base, httpx.Client(base_url=base, timeout=10) as client:
        assert log_in(client, OPERATOR, OPERATOR_PASSWORD, "203.0.113.9, 10.1.2.3").status_code == 200
    entries = station.audit.entries(start_ms=since, end_ms=2**62, username=OPERATOR)
    assert {(e.action, e.remote) for e in entries} == {("login_failed", "127.0.0.1"), ("login_blocked", "127.0.0.1"),
                                                      ("login", "203.0.113.9")}


def nvr(config: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "nvr", "--config", str(config), *args], capture_output=True,
                          text=True, timeout=60, check=False)


def test_check_config_reports_a_missing_file_and_every_problem(tmp_path: Path) -> None:
    config = tmp_path / "config.yaml"
    config.write_text(yaml.safe_dump({"cameras": [
        {"name": "a", "record_url": "file:///missing.mp4"},
        {"name": "a", "record_url": "rtsp://u:pw@h:0/x"},
        {"name": "b", "record_url": "demo://alley"},
        {"name": "b", "record_url": "demo://alley"},
    ]}))
    result = nvr(config, "check-config")
    assert result.returncode == 2, result
    problems = [line.strip() for line in result.stderr.splitlines()[1:]]
    assert problems == ["cameras[0].record_url: file '/missing.mp4' does not exist",
                        "cameras[1].record_url: port must be between 1 and 65535",
                        "cameras: camera name 'a' is used more than once",
                        "cameras: camera name 'b' is used more than once"], result.stderr
    assert "Traceback" not in result.stderr


def test_clip_into_a_missing_folder_or_at_an_absurd_time_is_one_line(station: Station, tmp_path: Path) -> None:
    config = tmp_path / "config.yaml"
    config.write_text(yaml.safe_dump({"data_dir": str(station.config.data_dir),
                                      "cameras": [{"name": "cam0", "record_url": "demo://alley"}]}))
    first = station.index.segments("cam0", 0, 2**62)[0]
    span = (str(first.start_ms / 1000), str(first.end_ms / 1000))
    result = nvr(config, "clip", "cam0", *span, "-o", "/missing-dir/x.mp4")
    assert result.returncode == 2, result
    assert result.stderr.strip() == "cannot write /missing-dir/x.mp4: the folder /missing-dir does not exist"
    absurd = nvr(config, "clip", "cam0", span[0], "1e20", "-o", str(tmp_path / "y.mp4"))
    assert absurd.returncode == 2
    assert absurd.stderr.strip() == "end: '1e20' is out of range: times must lie between 1970 and 9999"
    out = tmp_path / "x.mp4"
    assert nvr(config, "clip", "cam0", *span, "-o", str(out)).returncode == 0 and out.stat().st_size > 0
