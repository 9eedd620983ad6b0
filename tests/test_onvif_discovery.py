"""ONVIF discovery against a simulated camera (tests/support/onvif_camera.py) through the real libraries: the
WS-Discovery probe finds it, onvif-zeep-async reads its maker, model and streams, errors are worded for the
technician, `nvr discover` lists it with passwords hidden, and the API adds it in one step: it records."""

from __future__ import annotations

import asyncio
import json
import os
import resource
import subprocess
import sys
import threading
import zlib
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import yaml
from fastapi.testclient import TestClient
from playwright.sync_api import expect

from api.app import create_app
from ingest.urls import with_credentials
from nvr.onvif.cameras import find_cameras, read_camera
from nvr.onvif.device import WRONG_LOGIN, read_device
from nvr.onvif.discovery import DiscoveryError, probe
from nvr.onvif.model import DeviceError, stream_settings
from storage.camera_store import CameraStore
from storage.index import RecordingIndex
from tests.conftest import station_config, wait_for
from tests.support.onvif_camera import Profile, SimulatedOnvifCamera
from tests.support.rtsp import HOST, RtspServer, free_port
from tests.support.web import chromium, serving
from tests.test_ui import log_in

USER, PASSWORD = "admin", "Hk@2024:/x y%"  # every character a URL treats specially
NAME = "Cổng chợ Bến Thành"


@pytest.fixture(scope="module")
def rtsp() -> Iterator[RtspServer]:
    """The camera's own RTSP server: it wants the same login as its ONVIF services."""
    with RtspServer(["main", "sub"], user=USER, password=PASSWORD) as server:
        yield server


def simulated(rtsp: RtspServer, **settings) -> SimulatedOnvifCamera:
    """Main stream 1920x1080 and sub stream 640x360 (given in that order, as cameras list them), the URLs
    without credentials as cameras answer; the camera's clock is two hours off, as cheap cameras' are."""
    profiles = [Profile("Profile_1", 1920, 1080, rtsp.url("main")), Profile("Profile_2", 640, 360, rtsp.url("sub"))]
    return SimulatedOnvifCamera(settings.pop("profiles", profiles), user=USER, password=PASSWORD, name=NAME,
                                clock_offset=-7200, **settings)


@pytest.fixture
def camera(rtsp: RtspServer) -> Iterator[SimulatedOnvifCamera]:
    with simulated(rtsp) as sim:
        yield sim


def address(camera: SimulatedOnvifCamera) -> str:
    return f"{HOST}:{camera.discovery_port}"


def test_discovery_finds_the_camera_with_its_maker_model_and_streams(camera: SimulatedOnvifCamera,
                                                                      rtsp: RtspServer) -> None:
    [found] = asyncio.run(find_cameras(address(camera), USER, PASSWORD, 5))
    assert found.error is None
    assert (found.device, found.name, found.hardware) == (camera.xaddr, NAME, "DS-2CD1023G0E-I")
    assert found.info is not None and (found.info.maker, found.info.model) == ("Hikvision", "DS-2CD1023G0E-I")
    main, sub = found.info.main, found.info.sub
    assert (main.url, main.resolution, main.encoding) == (rtsp.url("main"), "1920x1080", "H264")
    assert sub is not None and (sub.url, sub.resolution) == (rtsp.url("sub"), "640x360")
    assert {"GetSystemDateAndTime", "GetDeviceInformation", "GetProfiles", "GetStreamUri"} <= set(camera.requests)
    assert camera.refused == [], "the login's timestamp follows the camera's clock, two hours off"

    settings = stream_settings(found.info, USER, PASSWORD)
    assert settings == {"record_url": with_credentials(rtsp.url("main"), USER, PASSWORD),
                        "detect_url": with_credentials(rtsp.url("sub"), USER, PASSWORD)}
    assert "Hk%402024%3A%2Fx%20y%25@" in settings["record_url"], "the password percent-encoded"


def test_a_camera_with_one_profile_has_no_sub_stream(rtsp: RtspServer) -> None:
    only = [Profile("main", 1280, 720, rtsp.url("main")), Profile("snapshot", 640, 480, rtsp.url("x"), "JPEG")]
    with simulated(rtsp, profiles=only) as sim:
        info = asyncio.run(read_device(sim.xaddr, USER, PASSWORD, 5))
    assert (info.main.resolution, info.sub) == ("1280x720", None), "a JPEG profile is no stream to record"


def test_each_camera_that_cannot_be_read_says_why(camera: SimulatedOnvifCamera) -> None:
    wrong = asyncio.run(read_camera(camera.xaddr, USER, "wrong password", 5))
    assert (wrong.error, wrong.reason) == (WRONG_LOGIN, "login")
    assert WRONG_LOGIN == "the camera refused the user name or password"
    assert camera.refused, "the camera checked the digest and refused it"

    no_login = asyncio.run(find_cameras(address(camera), "", "", 5))
    assert [c.error for c in no_login] == ["give the camera's user name and password to read its streams"]
    assert no_login[0].shown()["name"] == NAME, "what the announcement says is listed all the same"

    camera.delay = 3.0
    hung = asyncio.run(read_camera(camera.xaddr, USER, PASSWORD, 1))
    assert (hung.error, hung.reason) == ("the camera did not answer within 1 s", "timeout")

    class NotOnvif(BaseHTTPRequestHandler):  # a web server that knows no SOAP (an HTML 501 to every POST)
        def log_message(self, format: str, *args: object) -> None:  # noqa: A002 (the base class names it)
            pass

    web = ThreadingHTTPServer((HOST, 0), NotOnvif)
    threading.Thread(target=web.serve_forever, daemon=True).start()
    try:
        not_onvif = f"http://{HOST}:{web.server_address[1]}/onvif/device_service"
        assert asyncio.run(read_camera(not_onvif, USER, PASSWORD, 5)).error == \
            f"not an ONVIF camera (no SOAP answer from {not_onvif})"
    finally:
        web.shutdown()
        web.server_close()

    closed = f"http://{HOST}:{free_port()}/onvif/device_service"
    refused = asyncio.run(read_camera(closed, USER, PASSWORD, 5))
    assert refused.error == f"could not connect to {closed} (connection refused)"
    with pytest.raises(DeviceError, match="not an http:// or https:// address"):
        asyncio.run(read_device("rtsp://10.0.0.5/", USER, PASSWORD, 5))
    with_login = f"http://admin:DevPw99@{HOST}:{free_port()}/onvif/device_service"  # typed with its login
    assert asyncio.run(read_camera(with_login, USER, PASSWORD, 5)).error == \
        f"could not connect to http://admin:***@{with_login.rpartition('@')[2]} (connection refused)"


def test_a_probe_to_a_bad_or_silent_address(camera: SimulatedOnvifCamera) -> None:
    with pytest.raises(DiscoveryError, match="is not HOST or HOST:PORT"):
        probe("10.0.0.5/onvif", 1)
    with pytest.raises(DiscoveryError, match="alone") as typed_login:  # a login typed into the address
        probe("admin:DiscPw@10.0.0.5:3702", 1)
    assert "DiscPw" not in str(typed_login.value)
    with pytest.raises(DiscoveryError, match="does not resolve"):
        probe("no-such-host.invalid", 1)
    assert probe(f"{HOST}:{free_port()}", 0.5) == [], "nobody answers: nothing found once the time is up"
    assert [a.device for a in probe(address(camera), 5)] == [camera.xaddr]


def nvr(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "nvr", *args], capture_output=True, text=True, timeout=120,
                          stdin=subprocess.DEVNULL, check=False)


def test_nvr_discover_lists_the_camera_with_its_passwords_hidden_and_adds_it(rtsp: RtspServer, tmp_path: Path) -> None:
    # this camera puts its login into the stream URLs it gives, as some do: they are shown without it
    profiles = [Profile("main", 1920, 1080, rtsp.url("main", user=USER, password=PASSWORD)),
                Profile("sub", 640, 360, rtsp.url("sub", user=USER, password=PASSWORD))]
    with simulated(rtsp, profiles=profiles) as sim:
        listed = nvr("discover", "--address", address(sim), "--user", USER, "--password", PASSWORD)
        as_json = nvr("discover", "--address", address(sim), "--user", USER, "--password", PASSWORD, "--json")
        refused = nvr("discover", "--address", address(sim), "--user", USER, "--password", "wrong")
        config = tmp_path / "config.yaml"
        config.write_text(yaml.safe_dump({"data_dir": str(tmp_path / "data"), "station": {"id": "ca-ben-thanh"}}))
        added = nvr("--config", str(config), "discover", "--add", "cong-cho", "--device", sim.xaddr, "--user", USER,
                    "--password", PASSWORD, "--title", NAME)
    nothing = nvr("discover", "--address", f"{HOST}:{free_port()}", "--timeout", "0.5")

    assert listed.returncode == 0, listed.stderr
    [line] = listed.stdout.splitlines()
    assert line.split("\t") == [sim.xaddr, "Hikvision DS-2CD1023G0E-I", NAME,
                                f"main rtsp://{USER}:***@{HOST}:{rtsp.port}/main (1920x1080 H264)",
                                f"sub rtsp://{USER}:***@{HOST}:{rtsp.port}/sub (640x360)"]
    [shown] = map(json.loads, as_json.stdout.splitlines())
    assert shown["maker"] == "Hikvision" and shown["main_url"] == f"rtsp://{USER}:***@{HOST}:{rtsp.port}/main"
    assert refused.returncode == 0 and refused.stdout.strip().endswith(f"error: {WRONG_LOGIN}")
    for run in (listed, as_json, refused, added):
        assert PASSWORD not in run.stdout + run.stderr and "Hk%402024" not in run.stdout + run.stderr
    assert nothing.returncode == 1 and "no ONVIF camera answered" in nothing.stderr

    assert added.returncode == 0 and added.stdout.strip() == "add cong-cho: done", added.stderr
    index = RecordingIndex(f"sqlite:///{tmp_path / 'data' / 'nvr.db'}", "ca-ben-thanh")
    try:
        stored = CameraStore(index).get("cong-cho")
    finally:
        index.close()
    assert stored is not None and stored.settings["title"] == NAME
    assert stored.settings["record_url"] == with_credentials(rtsp.url("main"), USER, PASSWORD)
    assert stored.settings["detect_url"] == with_credentials(rtsp.url("sub"), USER, PASSWORD)


def as_admin(client: TestClient) -> TestClient:
    token = client.post("/api/auth/login", json={"username": "admin",
                                                 "password": os.environ["NVR_ADMIN_PASSWORD"]}).json()["token"]
    client.headers["Authorization"] = f"Bearer {token}"
    return client


def test_the_api_finds_the_camera_and_adds_it_in_one_step_and_it_records(
        camera: SimulatedOnvifCamera, rtsp: RtspServer, tmp_path: Path, make_station) -> None:
    station, operator = make_station(station_config(tmp_path, [], runtime={"recorder_processes": 1}))
    admin = as_admin(TestClient(create_app(station)))
    ask = {"user": USER, "password": PASSWORD, "timeout": 5, "address": address(camera)}

    assert operator.post("/api/discover", json=ask).status_code == 403, "administrators only"
    found = admin.post("/api/discover", json=ask)
    assert found.status_code == 200, found.text
    assert found.json() == [{"device": camera.xaddr, "maker": "Hikvision", "model": "DS-2CD1023G0E-I", "name": NAME,
                             "hardware": "DS-2CD1023G0E-I", "main_url": rtsp.url("main"), "resolution": "1920x1080",
                             "sub_url": rtsp.url("sub"), "sub_resolution": "640x360", "encoding": "H264",
                             "error": None, "reason": None}]
    bad_address = admin.post("/api/discover", json={**ask, "address": "10.0.0.5/x"})
    assert bad_address.status_code == 400 and bad_address.json()["detail"].startswith("address:")

    new = {"device": camera.xaddr, "user": USER, "password": PASSWORD, "name": "cong-cho", "title": NAME,
           "location": "Cổng phía đông"}
    refused = admin.post("/api/discover/add", json={**new, "password": "wrong"})
    assert refused.status_code == 400 and refused.json()["detail"] == f"{camera.xaddr}: {WRONG_LOGIN}"
    assert operator.post("/api/discover/add", json=new).status_code == 403
    added = admin.post("/api/discover/add", json=new)
    assert added.status_code == 201, added.text
    shown = added.json()
    assert (shown["name"], shown["title"], shown["location"]) == ("cong-cho", NAME, "Cổng phía đông")
    assert shown["record_url"] == f"rtsp://{USER}:***@{HOST}:{rtsp.port}/main"
    assert shown["detect_url"] == f"rtsp://{USER}:***@{HOST}:{rtsp.port}/sub"
    assert station.camera("cong-cho").record_url == with_credentials(rtsp.url("main"), USER, PASSWORD)
    assert admin.post("/api/discover/add", json=new).status_code == 409, "the name is taken now"

    wait_for(lambda: admin.get("/api/cameras/cong-cho").json()["status"] == "online", 20,
             "the added camera online with the credentials put into its URLs")
    wait_for(lambda: station.index.segments("cong-cho", 0, 2**62), 20, "the added camera recorded")
    entries = station.audit.entries(start_ms=0, end_ms=2**62)
    assert {"onvif_discover", "camera_add"} <= {e.action for e in entries if e.username == "admin"}
    add_entry = next(e for e in entries if e.action == "camera_add")
    assert add_entry.detail.endswith(f"(ONVIF {camera.xaddr})")
    assert all(PASSWORD not in e.detail and "Hk%40" not in e.detail for e in entries)


def test_an_administrator_finds_the_camera_on_the_cameras_page_and_adds_it(
        camera: SimulatedOnvifCamera, tmp_path: Path, make_station) -> None:
    station, _operator = make_station(station_config(tmp_path, [], runtime={"recorder_processes": 1}))
    with serving(station) as base, chromium() as browser:
        page = browser.new_page(viewport={"width": 1600, "height": 1000})
        log_in(page, base, "admin", os.environ["NVR_ADMIN_PASSWORD"])
        page.click("#cameras-link")
        form = page.locator("#discover-form")
        expect(form.locator("button.find")).to_have_text("Tìm camera trong mạng (ONVIF)")
        form.locator("input[name=user]").fill(USER)
        form.locator("input[name=password]").fill("wrong password")
        form.locator("input[name=address]").fill(address(camera))
        form.locator("button.find").click()
        row = page.locator(f'table.found tr[data-device="{camera.xaddr}"]')
        expect(row).to_contain_text("Camera từ chối tên đăng nhập hoặc mật khẩu", timeout=20_000)
        expect(row).to_contain_text(NAME)
        expect(row.locator("button.add")).to_have_count(0)

        form.locator("input[name=password]").fill(PASSWORD)
        form.locator("button.find").click()
        expect(row).to_contain_text("Hikvision DS-2CD1023G0E-I", timeout=20_000)
        expect(form.locator(".status")).to_have_text("Tìm thấy 1 camera")
        expect(row).to_contain_text("Luồng chính")
        expect(row).to_contain_text("(1920x1080)")
        expect(row).to_contain_text("(640x360)")
        expect(row.locator("input[name=name]")).to_have_value("cong-cho-ben-thanh")
        expect(row.locator("input[name=title]")).to_have_value(NAME)
        row.locator("button.add").click()  # one action
        expect(row.locator("button.add")).to_have_text("Đã thêm", timeout=20_000)
        added = page.locator('#camera-list tr[data-camera="cong-cho-ben-thanh"]')
        expect(added).to_contain_text(NAME, timeout=10_000)
        expect(added).to_contain_text(f"{USER}:***@")
        expect(added).to_have_attribute("data-status", "online", timeout=20_000)
        assert PASSWORD not in page.locator(".admin").inner_text()

        page.click("#lang")
        expect(form.locator("h2")).to_have_text("ONVIF cameras on the network")
        # the texts change at once, then the page is drawn again (a new, empty form): fill that one, not the old
        expect(row).to_have_count(0)
        form.locator("input[name=user]").fill(USER)
        form.locator("input[name=address]").fill(address(camera))
        form.locator("button.find").click()
        expect(form.locator("button.find")).to_have_text("Find cameras on the network (ONVIF)")
        expect(row).to_contain_text("The camera refused the user name or password", timeout=20_000)
        form.locator("input[name=password]").fill(PASSWORD)
        form.locator("button.find").click()
        expect(row).to_contain_text("Main stream", timeout=20_000)
        expect(form.locator(".status")).to_have_text("Cameras found: 1")
        expect(row.locator("button.add")).to_have_text("Add camera")
    wait_for(lambda: station.index.segments("cong-cho-ben-thanh", 0, 2**62), 20, "footage of the added camera")


def test_a_camera_probed_by_its_address_speaks_only_for_itself(camera: SimulatedOnvifCamera,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    """One answer listing other addresses (a hostile device on the post's network) had the station log in to each
    of them with the password typed for this camera."""
    genuine = camera.probe_match

    def with_others(relates_to: str) -> bytes:
        answer = genuine(relates_to).decode()
        match = answer[answer.index("<wsdd:ProbeMatch>"):answer.index("</wsdd:ProbeMatches>")]
        others = "".join(match.replace(camera.xaddr, f"http://10.9.{k}.1/onvif/device_service") for k in range(60))
        return answer.replace("</wsdd:ProbeMatches>", others + "</wsdd:ProbeMatches>").encode()

    monkeypatch.setattr(camera, "probe_match", with_others)
    assert [a.device for a in probe(address(camera), 5)] == [camera.xaddr]


class EndlessAnswer:
    """A 'camera' whose device service answers every request with zeros that never end: gzip-compressed as they
    are sent (a few kB on the wire inflate to a GB), or plain."""

    def __init__(self, compressed: bool) -> None:
        self.inflated = 0  # bytes of zeros sent

        bomb = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                self.rfile.read(int(self.headers.get("Content-Length", 0)))
                self.send_response(200)
                self.send_header("Content-Type", "application/soap+xml; charset=utf-8")
                if compressed:
                    self.send_header("Content-Encoding", "gzip")
                self.send_header("Connection", "close")
                self.end_headers()
                packer = zlib.compressobj(9, zlib.DEFLATED, 31)
                pack = packer.compress if compressed else bytes
                zeros = bytes(1 << 20)
                try:
                    self.wfile.write(pack(b'<?xml version="1.0"?><a>'))
                    while bomb.inflated < 8 << 30:
                        self.wfile.write(pack(zeros))
                        bomb.inflated += len(zeros)
                except OSError:
                    pass  # the reader hung up

            def log_message(self, *args: object) -> None:
                pass

        self._server = ThreadingHTTPServer((HOST, 0), Handler)
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        self.xaddr = f"http://{HOST}:{self._server.server_port}/onvif/device_service"

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()


@pytest.mark.parametrize("compressed", [True, False], ids=["gzip-bomb", "plain"])
def test_a_camera_answering_without_end_costs_the_station_nothing(camera: SimulatedOnvifCamera, tmp_path: Path,
                                                                  make_station, compressed: bool) -> None:
    """Before, the ONVIF library inflated a camera's answer whole in the station process (2.2 GB in 20 s, measured),
    and parsing it held the event loop. Cameras are now read in a child process with a memory limit: that camera
    gets an error, the station's memory does not grow, and the next camera is read as before."""
    station, _operator = make_station(station_config(tmp_path, [], runtime={"recorder_processes": 1}))
    admin = as_admin(TestClient(create_app(station)))
    bomb = EndlessAnswer(compressed)
    peak_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    try:
        refused = admin.post("/api/discover/add", json={"device": bomb.xaddr, "user": USER, "password": PASSWORD,
                                                        "name": "bom", "timeout": 10})
    finally:
        bomb.close()
    assert refused.status_code == 400 and refused.json()["detail"].startswith(f"{bomb.xaddr}: "), refused.text
    assert bomb.inflated > 64 << 20, "the answer was read far enough to matter"
    grown_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - peak_before
    assert grown_kb < 100_000, f"the station's peak memory grew by {grown_kb} kB"
    assert station.camera("bom") is None
    found = admin.post("/api/discover", json={"user": USER, "password": PASSWORD, "address": address(camera)})
    assert found.status_code == 200 and found.json()[0]["error"] is None, found.text


def test_cameras_the_reader_child_did_not_report_say_so(monkeypatch: pytest.MonkeyPatch) -> None:
    """A child that runs out of its time (or dies) is killed; each camera it did not report says so."""
    from nvr.onvif import isolated
    from nvr.onvif.model import FoundCamera

    monkeypatch.setattr(isolated, "START_SECONDS", -1.9)  # 0.1 s in all: not even the child's start-up fits
    cameras = [FoundCamera("http://192.0.2.1/onvif/device_service", "Cổng chợ"), FoundCamera("http://192.0.2.2/")]
    read = asyncio.run(isolated.read_cameras(cameras, USER, PASSWORD, 1.0))
    assert [(c.device, c.name, c.error, c.reason) for c in read] == [
        (c.device, c.name, isolated.NOT_READ, "other") for c in cameras]


def test_a_camera_s_long_answer_is_its_own_error_and_the_others_are_read(rtsp: RtspServer) -> None:
    """A stream URL of 70 kB made the child's line for that camera too long for the station to take, and the loss
    of that line lost every camera's reading (found in review). Now it is that camera's error; names are cut to
    what a screen shows."""
    from nvr.onvif import isolated
    from nvr.onvif.model import MAX_TEXT, FoundCamera

    honest = simulated(rtsp)
    hostile = SimulatedOnvifCamera([Profile("p1", 1920, 1080, "rtsp://127.0.0.1/" + "x" * 70_000)], user=USER,
                                   password=PASSWORD)
    with honest, hostile:
        read = asyncio.run(isolated.read_cameras([FoundCamera(hostile.xaddr, "😀" * 6000), FoundCamera(honest.xaddr)],
                                                 USER, PASSWORD, 5.0))
    assert read[0].error == "the camera's stream URL is longer than 2048 characters" and read[0].name == "😀" * MAX_TEXT
    assert read[1].error is None and read[1].info is not None and read[1].info.main.url == rtsp.url("main")


def test_a_reader_child_that_fails_is_logged_with_its_last_words(monkeypatch: pytest.MonkeyPatch,
                                                                  caplog: pytest.LogCaptureFixture) -> None:
    """A child that dies at its start (a broken install, say) left nothing in the log (found in review): its exit
    code and the end of its stderr are logged, the password never."""
    from nvr.onvif import isolated
    from nvr.onvif.model import FoundCamera

    monkeypatch.setattr(isolated, "CHILD", "nvr.onvif.no_such_module")
    read = asyncio.run(isolated.read_cameras([FoundCamera("http://192.0.2.1/onvif/device_service")], USER,
                                             PASSWORD, 1.0))
    assert read[0].error == isolated.NOT_READ
    assert "the reader child ended with 1, 0 of 1 cameras read" in caplog.text
    assert "No module named nvr.onvif.no_such_module" in caplog.text and PASSWORD not in caplog.text


def test_a_camera_s_redirect_is_not_followed_with_the_login(camera: SimulatedOnvifCamera) -> None:
    """The library followed a camera's redirects, and a 307 sent the signed login on to whatever address the camera
    named. Read by the station (its child), a redirect is that camera's error and the other address hears nothing."""
    from nvr.onvif import isolated
    from nvr.onvif.model import FoundCamera

    class Redirecting(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            self.rfile.read(int(self.headers.get("Content-Length", 0)))
            self.send_response(307)
            self.send_header("Location", camera.xaddr)  # a real ONVIF service: following would read it
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer((HOST, 0), Redirecting)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    xaddr = f"http://{HOST}:{server.server_port}/onvif/device_service"
    try:
        [read] = asyncio.run(isolated.read_cameras([FoundCamera(xaddr)], USER, PASSWORD, 5.0))
    finally:
        server.shutdown()
        server.server_close()
    assert read.info is None and read.error is not None and "307" in read.error, read
