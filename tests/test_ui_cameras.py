"""The administrators' camera page in Debian's Chromium, against the real server and RTSP cameras: add, refuse,
change, disable and remove cameras; nobody else gets to."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.conftest import OPERATOR, OPERATOR_PASSWORD, station_config, wait_for
from tests.support.rtsp import RtspServer
from tests.support.web import chromium, log_in, serving

ADMIN_PASSWORD = os.environ["NVR_ADMIN_PASSWORD"]
ROW = 'tr[data-camera="{}"]'


@pytest.fixture
def station(cameras: RtspServer, tmp_path: Path, make_station):
    config = station_config(tmp_path, [{"name": "hem-4", "record_url": cameras.url("cam0"), "title": "Hẻm 4, ngõ 2",
                                        "location": "Trước nhà số 12"}], runtime={"recorder_processes": 1})
    station, _client = make_station(config)
    wait_for(lambda: station.index.segments("hem-4", 0, 2**62), 20, "footage of hem-4")
    return station


def test_admin_adds_changes_disables_and_removes_a_camera(station, cameras: RtspServer) -> None:
    from storage.clock_steps import ClockStep, ClockSteps
    from storage.models import ClockStepRow

    secret_url = cameras.url("cam1", user="admin", password="bí-mật")
    # the station's clock set an hour forward after its first footage: the page says so (as a pass reads it)
    first = station.index.segments("hem-4", 0, 2**62)[0]
    step = ClockStep(first.end_ms, first.end_ms + 3_600_000, since_ms=0)
    with station.index.session() as session, session.begin():
        session.add(ClockStepRow(station=station.index.station, before_ms=step.before_ms, after_ms=step.after_ms,
                                 since_ms=0))
    station.retention.clock_steps = ClockSteps([step])
    with serving(station) as base, chromium() as browser:
        page = browser.new_page(viewport={"width": 1600, "height": 1000})
        log_in(page, base, "admin", ADMIN_PASSWORD)

        # the grid shows titles, with the location as a second line
        tile = page.locator('.tile[data-camera="hem-4"]')
        expect(tile.locator(".name")).to_have_text("Hẻm 4, ngõ 2", timeout=20_000)
        expect(tile.locator(".place")).to_have_text("Trước nhà số 12")

        page.click("#cameras-link")
        expect(page).to_have_url(re.compile("#/cameras$"))
        existing = page.locator(ROW.format("hem-4"))
        expect(existing).to_contain_text("Hẻm 4, ngõ 2", timeout=10_000)
        expect(existing).to_have_attribute("data-status", "online")
        expect(existing.locator("td").nth(4)).to_have_text(re.compile(r"\d+ [KM]B.*giữ \d+ phút, đã ghi \d+ phút"))
        expect(page.locator(".disk")).to_contain_text("Ổ đĩa còn trống")
        expect(page.locator(".clock-steps")).to_contain_text("Đồng hồ của trạm đã được chỉnh tiến 1.0 giờ")

        form = page.locator("#camera-form")
        form.locator("input[name=name]").fill("cho-moi")
        form.locator("input[name=title]").fill("Chợ mới, cổng sau")
        form.locator("input[name=location]").fill("Góc đường Lê Lợi")
        form.locator("input[name=record_url]").fill(secret_url)
        form.locator("button[type=submit]").click()
        added = page.locator(ROW.format("cho-moi"))
        expect(added).to_contain_text("Chợ mới, cổng sau", timeout=10_000)
        expect(added).to_contain_text("Góc đường Lê Lợi")
        expect(added).to_contain_text("admin:***@")
        expect(added).to_have_attribute("data-status", "online", timeout=20_000)
        assert "bí-mật" not in page.content()
        assert form.locator("input[name=name]").input_value() == "", "the form is ready for the next camera"

        # a bad URL: refused, with the API's own words next to the form
        form.locator("input[name=name]").fill("cong-sau")
        form.locator("input[name=record_url]").fill("http://10.0.0.2/x")
        form.locator("button[type=submit]").click()
        expect(form.locator(".error")).to_contain_text("Không thêm được camera: record_url: unsupported scheme 'http'")
        assert station.camera("cong-sau") is None
        assert page.locator(ROW.format("cong-sau")).count() == 0

        # a change sends only what changed: the empty URL field keeps the real (unredacted) URL
        added.locator("button.edit").click()
        expect(form.locator("input[name=name]")).to_have_value("cho-moi")
        expect(form.locator("input[name=record_url]")).to_have_value("")
        form.locator("input[name=location]").fill("Cổng sau chợ, hướng ra sông")
        with page.expect_request(lambda r: r.method == "PUT") as put:
            form.locator("button[type=submit]").click()
        assert json.loads(put.value.post_data or "{}") == {"location": "Cổng sau chợ, hướng ra sông"}
        expect(added).to_contain_text("Cổng sau chợ, hướng ra sông")
        assert station.camera("cho-moi").record_url == secret_url

        added.locator("button.toggle").click()
        expect(added).to_have_attribute("data-status", "disabled", timeout=10_000)
        expect(added.locator("button.toggle")).to_have_text("Bật")
        assert station.camera("cho-moi").enabled is False
        expect(existing).to_have_attribute("data-status", "online")

        messages: list[str] = []

        def answer(dialog) -> None:
            messages.append(dialog.message)
            dialog.accept()

        page.once("dialog", answer)
        added.locator("button.remove").click()
        expect(added).to_have_count(0, timeout=10_000)
        assert "Chợ mới, cổng sau" in messages[0] and "giữ đến khi hết hạn lưu trữ" in messages[0]
        assert station.camera("cho-moi") is None
        assert station.index.segments("cho-moi", 0, 2**62), "its footage stays"

        # the same page in English
        page.click("#lang")
        expect(page.locator(".admin h1")).to_have_text("Cameras")
        expect(page.locator(".cameras th").nth(2)).to_have_text("Status")
        expect(form.locator("button[type=submit]")).to_have_text("Add camera")
        expect(existing.locator(".state")).to_have_text("Online")
        expect(page.locator("#cameras-link")).to_have_text("Cameras")


def phone_page(browser: Browser) -> Page:
    return browser.new_page(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True)


def test_only_administrators_manage_cameras_and_the_page_fits_a_phone(station) -> None:
    with serving(station) as base, chromium() as browser:
        page = phone_page(browser)
        log_in(page, base, OPERATOR, OPERATOR_PASSWORD)
        expect(page.locator('.tile[data-camera="hem-4"]')).to_be_visible(timeout=20_000)
        expect(page.locator("#cameras-link")).to_be_hidden()
        page.goto(f"{base}/#/cameras")
        expect(page.locator(".notice")).to_have_text("Chỉ quản trị viên mới quản lý được camera.")
        expect(page.locator("#cameras-link")).to_be_hidden()
        refused = page.evaluate("""() => fetch('/api/cameras', {method: 'POST',
            headers: {'Content-Type': 'application/json'},
            body: JSON.stringify({name: 'x', record_url: 'rtsp://10.0.0.2/x'})}).then(r => r.status)""")
        assert refused == 403

        admin = phone_page(browser)
        log_in(admin, base, "admin", ADMIN_PASSWORD)
        admin.locator("#cameras-link").click()
        row = admin.locator(ROW.format("hem-4"))
        expect(row).to_have_attribute("data-status", "online", timeout=10_000)
        assert admin.evaluate("() => document.documentElement.scrollWidth") <= 390, "nothing wider than the phone"
        assert row.evaluate("row => getComputedStyle(row).display") == "block", "each camera a card"
        box = row.locator("button.remove").bounding_box()
        assert box is not None and box["width"] > 0
