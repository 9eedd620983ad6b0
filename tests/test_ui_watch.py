"""The station screen when things go wrong on a night shift (faults an audit found in Chromium): live views of a page
left before they connected, alerts of one camera's several events, a highlight kept across pages, and a session that
ends while the screen is watched."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from playwright.sync_api import Route

from api.app import create_app
from nvr.station import Station
from storage.clock import now_ms
from tests.conftest import OPERATOR, OPERATOR_PASSWORD, station_config, wait_for
from tests.support.rtsp import RtspServer
from tests.support.web import chromium, log_in, serving
from tests.test_auth import login

CAMERAS = ("c0", "c1", "c2", "c3")
ALERTING = '.tile[data-camera="{}"].alerting'


@pytest.fixture
def station(tmp_path: Path, make_station: Any) -> Any:
    """Four cameras, detection off: the tests make the events."""
    with RtspServer(list(CAMERAS)) as server:
        config = station_config(tmp_path, [{"name": name, "record_url": server.url(name), "detect": {"enabled": False}}
                                           for name in CAMERAS])
        station, _client = make_station(config)
        yield station


def admin_client(station: Station) -> TestClient:
    admin = TestClient(create_app(station))
    admin.headers["Authorization"] = f"Bearer {login(admin, 'admin', os.environ['NVR_ADMIN_PASSWORD']).json()['token']}"
    return admin


def test_a_grid_left_before_its_tiles_connect_leaves_no_live_view_open(station: Station) -> None:
    """The page's peer connections are counted as the browser makes them: once the grid is left, every one is
    closed, also those whose offer was still being answered when it was left, and the station ends their views."""
    since = now_ms()
    with serving(station) as base, chromium() as browser:
        page = browser.new_page(viewport={"width": 1280, "height": 720})
        page.add_init_script(PEERS_COUNTED)
        log_in(page, base, OPERATOR, OPERATOR_PASSWORD)
        page.wait_for_selector(".tile video")
        for _ in range(6):  # to the events page while the tiles' offers are being answered, and back
            page.wait_for_function("() => window.peers.length > 0")
            page.evaluate("location.hash = '#/events'")
            page.wait_for_selector(".events-page", state="attached")
            page.evaluate("location.hash = '#/'")
            page.wait_for_selector(".tile video")
        page.wait_for_function("() => window.peers.length >= 24", timeout=20_000)
        page.evaluate("location.hash = '#/events'")
        page.wait_for_function("() => window.peers.every(p => p.signalingState === 'closed')", timeout=20_000)
        # a view closed before its DTLS was up is ended when its consent lapses (aioice: six checks 5 s apart)
        wait_for(lambda: views(station, "live_stop", since) == views(station, "live_start", since) > 0, 50,
                 "the station to end every view the grid started")


def test_a_screen_left_while_it_loaded_does_not_write_over_the_grid(station: Station) -> None:
    """The events page left before its cameras came: once they came it failed (its elements were gone), and the
    failure's message replaced the grid shown meanwhile (CI saw the grid's pictures never come back)."""
    held: list[Route] = []
    hold = [False]

    def cameras(route: Route) -> None:
        if hold[0]:
            hold[0] = False
            held.append(route)
        else:
            route.continue_()

    with serving(station) as base, chromium() as browser:
        page = browser.new_page(viewport={"width": 1280, "height": 720})
        log_in(page, base, OPERATOR, OPERATOR_PASSWORD)
        page.wait_for_selector(".tile video")
        page.route("**/api/cameras", cameras)
        hold[0] = True
        page.evaluate("location.hash = '#/events'")
        page.wait_for_selector(".events-page", state="attached")
        wait_for(lambda: bool(page.evaluate("1") and held), 10, "the events page asking for the cameras")
        page.evaluate("location.hash = '#/'")
        page.wait_for_selector(".tile video")
        with page.expect_response("**/api/cameras"):
            held[0].continue_()
        page.evaluate("new Promise((done) => setTimeout(done, 0))")  # the events page's code after its answer ran
        assert page.locator(".tile video").count() == 4, page.locator("#view").inner_text()[:200]


def views(station: Station, action: str, since_ms: int) -> int:
    """Live views started or ended for the operator since `since_ms`, as the station audits them."""
    return len(station.audit.entries(start_ms=since_ms, end_ms=2**62, action=action, username=OPERATOR))


# every RTCPeerConnection the page makes, kept in window.peers
PEERS_COUNTED = """
window.peers = [];
const Made = window.RTCPeerConnection;
window.RTCPeerConnection = function (...args) { const peer = new Made(...args); window.peers.push(peer); return peer; };
window.RTCPeerConnection.prototype = Made.prototype;
"""


def test_an_old_event_acknowledged_leaves_the_camera_alerting_for_its_open_one(station: Station) -> None:
    events = station.events
    old = events.open("c1", "motion", now_ms() - 60_000, 0.8, ())
    events.update(old.id, end_ms=now_ms() - 50_000)
    with serving(station) as base, chromium() as browser:
        page = browser.new_page(viewport={"width": 1280, "height": 720})
        log_in(page, base, OPERATOR, OPERATOR_PASSWORD)
        page.wait_for_selector(f'#feed li[data-event="{old.id}"]')
        assert page.locator(ALERTING.format("c1")).count() == 0, "an event over long ago is no alert"
        current = events.open("c1", "motion", now_ms(), 0.9, ())
        station.event_bus.publish(current)
        page.wait_for_selector(ALERTING.format("c1"), timeout=10_000)
        operator = TestClient(create_app(station))
        operator.headers["Authorization"] = f"Bearer {login(operator, OPERATOR, OPERATOR_PASSWORD).json()['token']}"
        assert operator.post(f"/api/events/{old.id}/ack", json={"note": "đã xem"}).status_code == 200
        page.wait_for_selector(f'#feed li[data-event="{old.id}"].acked', timeout=10_000)
        assert page.locator(ALERTING.format("c1")).count() == 1, "the open event still alerts"
        assert page.locator("#feed li").first.get_attribute("data-event") == str(current.id), "newest first"

        # the highlight of the open event is there again after another page, and after the language switch
        page.evaluate("location.hash = '#/events'")
        page.wait_for_selector(".tile", state="detached")
        page.evaluate("location.hash = '#/'")
        page.wait_for_selector(ALERTING.format("c1"), timeout=10_000)
        page.click("#lang")
        page.wait_for_selector(ALERTING.format("c1"), timeout=10_000)

        # it ends: the highlight goes after its hold; the end of an event off the feed does not come back on top
        events.update(current.id, end_ms=now_ms())
        ended = events.get(current.id)
        assert ended is not None
        station.event_bus.publish(ended)
        page.wait_for_selector(ALERTING.format("c1"), state="detached", timeout=20_000)


def test_a_session_ended_elsewhere_brings_the_login_back_saying_so(station: Station) -> None:
    with serving(station) as base, chromium() as browser:
        page = browser.new_page(viewport={"width": 1280, "height": 720})
        log_in(page, base, OPERATOR, OPERATOR_PASSWORD)
        page.wait_for_selector(".tile video")
        changed = admin_client(station).post(f"/api/users/{OPERATOR}/password", json={"password": "a-new-duty-pass"})
        assert changed.status_code == 200, changed.text  # which ends every session of the account
        page.wait_for_selector("#login-form", timeout=15_000)
        assert page.inner_text("#login-error") == "Phiên đăng nhập đã kết thúc: hãy đăng nhập lại"
