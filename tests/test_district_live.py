"""Live view at the district (`GET /api/stations/{id}/cameras/{name}/live.mp4`), relayed from the owning post
(three `nvr run` posts, PostgreSQL, mosquitto and the district server as processes: test_district.py's setup):
the relayed bytes decode to the camera's pictures, two district viewers share one upstream that closes after
the last leaves, a viewer sees only what is granted, a post that is down is a 502, and Chromium plays it."""

from __future__ import annotations

import io
import os
import signal
import threading
import time
from typing import Any

import av
import httpx

from tests.conftest import wait_for
from tests.support.web import chromium, log_in
from tests.test_district import Setup, _audit
from tests.test_district import district as district  # the module-scoped setup (a fixture)

LIVE = "/api/stations/phuong-b/cameras/cong-b/live.mp4"


class Watcher(threading.Thread):
    """A district viewer reading a live stream in the background until told to stop."""

    def __init__(self, setup: Setup, path: str = LIVE, key: str | None = None) -> None:
        super().__init__(daemon=True)
        self.url, self.key = f"{setup.base}{path}", key or setup.key
        self.body = bytearray()
        self.status = 0
        self.first_bytes = 0.0
        self.stop = threading.Event()

    def run(self) -> None:
        began = time.monotonic()
        with httpx.stream("GET", self.url, headers={"Authorization": f"Bearer {self.key}"}, timeout=30) as answer:
            self.status = answer.status_code
            for chunk in answer.iter_raw():
                self.first_bytes = self.first_bytes or time.monotonic() - began
                self.body += chunk
                if self.stop.is_set():
                    return

    def pictures(self) -> list[tuple[int, int]]:
        with av.open(io.BytesIO(bytes(self.body)), "r") as container:
            return [(frame.width, frame.height) for frame in container.decode(video=0)]


def cpu_seconds(pid: int) -> float:
    """User and system CPU time of a process so far."""
    with open(f"/proc/{pid}/stat") as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def test_two_district_viewers_share_one_upstream_whose_pictures_decode(district: Setup) -> None:
    wait_for(lambda: any(c["status"] == "online" for c in district.get("/api/cameras").json()
                         if c["name"] == "cong-b"), 30, "post b's camera online")
    asked = time.time()
    first = Watcher(district)
    first.start()
    wait_for(lambda: len(first.body) > 20_000, 20, "the first viewer's pictures")
    second = Watcher(district)
    second.start()
    wait_for(lambda: len(second.body) > 20_000, 20, "the second viewer's pictures")
    print(f"first bytes through the district after {first.first_bytes:.2f} s (upstream opened), "
          f"{second.first_bytes:.2f} s (upstream shared)")
    pid = district.processes["district"].pid
    before, sent = cpu_seconds(pid), len(first.body) + len(second.body)
    time.sleep(5)  # a measurement over a fixed span, not an assertion
    used, relayed = cpu_seconds(pid) - before, len(first.body) + len(second.body) - sent
    print(f"district CPU relaying one 320x240 camera to two viewers: {used / 5 * 100:.1f} % of a core "
          f"for {relayed / 5 / 1000:.0f} kB/s out")
    first.stop.set()
    second.stop.set()
    first.join(10)
    second.join(10)
    assert first.status == second.status == 200
    for watcher in (first, second):
        shown = watcher.pictures()
        assert len(shown) >= 15 and set(shown) == {(320, 240)}  # a late joiner decodes from its first byte too

    starts = _audit(district, "phuong-b", "live_start", asked)
    assert [(e.username, e.camera, e.detail) for e in starts] == [("district", "cong-b", "main mp4")]  # one upstream
    at_district = _audit(district, "district", "live_start", asked)
    assert [(e.username, e.camera) for e in at_district] == [("district", "phuong-b/cong-b")] * 2
    wait_for(lambda: _audit(district, "phuong-b", "live_stop", asked), 20, "the upstream closed at post b")
    stops = _audit(district, "district", "live_stop", asked)
    assert len(stops) == 2


def test_a_viewer_watches_live_only_what_is_granted(district: Setup) -> None:
    asked = time.time()
    refused = district.get("/api/stations/phuong-a/cameras/cam0/live.mp4", district.household)
    assert refused.status_code == 404  # the district's rule: a camera not granted is one that does not exist
    assert district.get("/api/stations/phuong-b/cameras/nowhere/live.mp4").status_code == 404
    assert district.get(LIVE, quality="best").status_code == 422
    assert httpx.get(f"{district.base}{LIVE}", timeout=10).status_code == 401
    viewer = Watcher(district, key=district.household)
    viewer.start()
    wait_for(lambda: len(viewer.body) > 5_000, 20, "the granted camera's pictures")
    viewer.stop.set()
    viewer.join(10)
    assert viewer.status == 200
    rows = [(e.username, e.camera) for e in _audit(district, "district", "live_start", asked)]
    assert rows == [("nha-so-5", "phuong-b/cong-b")]


def test_a_district_live_view_ends_when_its_session_does(district: Setup) -> None:
    asked = time.time()
    login = httpx.post(f"{district.base}/api/auth/login", timeout=10,
                       json={"username": "district", "password": "district-password"}).json()
    viewer = Watcher(district, key=login["token"])
    viewer.start()
    wait_for(lambda: len(viewer.body) > 5_000, 20, "the live view with a session")
    logged_out = httpx.post(f"{district.base}/api/auth/logout", headers={"Authorization": f"Bearer {login['token']}"},
                            timeout=10)
    assert logged_out.status_code == 200
    viewer.join(15)  # ends by itself: the district reads the session again every 5 s
    assert not viewer.is_alive()
    stops = [e.detail for e in _audit(district, "district", "live_stop", asked) if e.username == "district"]
    assert stops == ["the session has ended"]


def test_the_district_page_plays_a_live_view(district: Setup) -> None:
    problems: list[str] = []
    with chromium() as browser:
        page = browser.new_page()
        page.on("console", lambda message: problems.append(message.text) if "Content Security" in message.text
                else None)
        page.on("response", lambda answer: problems.append(f"{answer.status} {answer.url}")
                if answer.status >= 400 and not answer.url.endswith(("/favicon.ico", "/api/auth/me")) else None)
        log_in(page, district.base, "district", "district-password")
        button = page.locator('#live-cameras button[data-camera="phuong-b/cong-b"]')
        button.wait_for(timeout=20_000)
        assert button.inner_text() == "Trực tiếp: Công an phuong-b · Cổng chợ"  # Vietnamese first
        began = time.monotonic()
        button.click()
        page.wait_for_function("() => document.getElementById('live-player').videoWidth > 0", timeout=20_000)
        print(f"first live picture in Chromium {time.monotonic() - began:.2f} s after the click")
        start: Any = page.evaluate("() => document.getElementById('live-player').currentTime")
        page.wait_for_function(f"() => document.getElementById('live-player').currentTime > {start} + 2",
                               timeout=20_000)
        lag = page.evaluate("() => { const v = document.getElementById('live-player');"
                            " return v.buffered.end(v.buffered.length - 1) - v.currentTime; }")
        assert page.evaluate("() => document.getElementById('live-player').videoWidth") == 320
        assert lag < 2.5, lag  # near the live edge
        page.click("#live-stop")
        assert page.locator("#live-player").is_hidden()
    assert not problems, problems


def test_live_view_of_a_post_that_is_down_is_a_clear_502(district: Setup) -> None:
    post = district.processes["phuong-c"]
    post.send_signal(signal.SIGTERM)
    post.wait(60)
    answer = district.get("/api/stations/phuong-c/cameras/cam1/live.mp4")
    assert answer.status_code == 502 and answer.json()["detail"] == "station phuong-c is unreachable (ConnectError)"
