"""The camera health page in Debian's Chromium, against the real server: worst camera first, in Vietnamese
and in English, and on a phone."""

from __future__ import annotations

import re
from pathlib import Path

from playwright.sync_api import expect

from tests.conftest import OPERATOR, OPERATOR_PASSWORD
from tests.support.rtsp import RtspServer
from tests.support.web import chromium, serving
from tests.test_health import start_health_station
from tests.test_ui import log_in
from tests.test_ui_cameras import phone_page

ROWS = ".health tbody tr"


def test_the_health_page_lists_the_worst_camera_first(cameras: RtspServer, tmp_path: Path, make_station) -> None:
    station, _client = start_health_station(cameras, tmp_path, make_station)
    with serving(station) as base, chromium() as browser:
        page = browser.new_page(viewport={"width": 1600, "height": 1000})
        log_in(page, base, OPERATOR, OPERATOR_PASSWORD)
        page.click("#health-link")
        expect(page).to_have_url(re.compile("#/health$"))
        expect(page.locator(".admin h1")).to_have_text("Tình trạng camera")
        rows = page.locator(ROWS)
        expect(rows).to_have_count(2, timeout=10_000)
        expect(page.locator("select.days")).to_have_value("7")
        page.select_option("select.days", "1")
        first = rows.nth(0)
        expect(first).to_have_attribute("data-camera", "cho")
        expect(first.locator(".uptime")).to_have_text(re.compile(r"^(49\.9\d|50\.00) %$"))
        expect(first.locator(".uptime")).to_have_class(re.compile(r"\bbad\b"))
        expect(first).to_contain_text("Chợ cũ")
        expect(first).to_contain_text("Mất kết nối")
        expect(first).to_contain_text("2 lần, 12.0 giờ")  # the 12 hours the service was not running, then the refusal
        expect(first).to_contain_text("cách đây 12.0 giờ")
        expect(rows.nth(1)).to_have_attribute("data-camera", "hem-4")
        expect(rows.nth(1)).to_contain_text("Trực tuyến")
        expect(page.locator(".health th").nth(2)).to_have_text("Thời gian hoạt động")

        page.click("#lang")
        expect(page.locator(".admin h1")).to_have_text("Camera health")
        expect(page.locator(".health th").nth(2)).to_have_text("Uptime")
        expect(page.locator(ROWS).nth(0)).to_contain_text("Offline")
        expect(page.locator("#health-link")).to_have_text("Camera health")

        phone = phone_page(browser)
        log_in(phone, base, OPERATOR, OPERATOR_PASSWORD)
        phone.click("#health-link")
        expect(phone.locator(ROWS).nth(0)).to_have_attribute("data-camera", "cho", timeout=10_000)
        assert phone.evaluate("() => document.documentElement.scrollWidth") <= 390, "nothing wider than the phone"
