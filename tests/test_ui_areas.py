"""A camera's detection areas drawn in Debian's Chromium against the real server and a served scene: the
administrator opens them from the camera page, sees where the camera moved, masks the road, saves; the camera
records on; nobody else gets the page."""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

from playwright.sync_api import Dialog, expect

from tests.conftest import OPERATOR, OPERATOR_PASSWORD, station_config, wait_for
from tests.support.rtsp import RtspServer
from tests.support.web import chromium, log_in, serving
from tests.test_motion_search import PATH
from tests.test_ui_cases import draw
from tests.test_ui_playback import new_page


def test_an_admin_masks_where_the_camera_moved_and_it_records_on(scene_cameras: RtspServer, tmp_path: Path,
                                                                 make_station) -> None:
    config = station_config(tmp_path, [{"name": "cua-hang", "record_url": scene_cameras.url("xe-may"),
                                        "title": "Cửa hàng"},
                                       {"name": "hem-4", "record_url": scene_cameras.url("yen-tinh")}])
    station, client = make_station(config)
    wait_for(lambda: [e for e in client.get("/api/events?camera=cua-hang&type=motion").json()
                      if e["end_ms"] is not None], 60, "the motorbike's motion event to end")
    wait_for(lambda: station.motion_grids.grids("cua-hang", 0, 2**62).seconds.size, 10, "the crossing indexed")
    with serving(station) as base, chromium() as browser:
        page, errors = new_page(browser, viewport={"width": 1600, "height": 1000})
        log_in(page, base, "admin", os.environ["NVR_ADMIN_PASSWORD"])
        expect(page.locator(".tile").first).to_be_visible(timeout=20_000)
        page.click("#cameras-link")
        page.locator('tr[data-camera="cua-hang"] button.areas').click()
        expect(page).to_have_url(re.compile(r"#/areas\?camera=cua-hang$"))
        root = page.locator(".areas-page")
        expect(root).to_have_attribute("data-loaded", "true", timeout=10_000)
        expect(page.locator("h1")).to_have_text("Vùng phát hiện")
        expect(page.locator(".areas-summary")).to_contain_text("Chuyển động")
        busy = page.locator(".drawing rect.busy")
        assert busy.count() >= 3, "the cells the motorbike crossed"
        rows = busy.evaluate_all("cells => cells.map(c => Number(c.getAttribute('y')) / c.ownerSVGElement"
                                 ".viewBox.baseVal.height)")
        assert all(0.5 <= row < 0.9 for row in rows), rows  # on the road (rows 5 to 7 of 9)

        page.click(".add-masks")
        expect(page.locator(".areas-side .error")).to_have_text("Hãy vẽ vùng trên hình (ít nhất 3 điểm)")
        draw(page, PATH)
        page.click(".add-masks")
        expect(root).to_have_attribute("data-masks", "1")
        expect(page.locator(".drawing polygon.masks")).to_have_count(1)
        expect(page.locator(".areas-status")).to_have_text("Có thay đổi chưa lưu")
        page.select_option("select[name=hours]", "1")  # another period: the cells again, the unsaved mask kept
        expect(root).to_have_attribute("data-masks", "1")
        page.click(".areas-side .save")
        expect(root).to_have_attribute("data-saved", "true")
        expect(page.locator(".areas-status")).to_contain_text("Camera vẫn ghi hình")

        saved: list[Any] = client.get("/api/cameras/cua-hang/detection-areas",
                                      headers={"Authorization": admin_token(client)}).json()["masks"]
        assert len(saved) == 1 and len(saved[0]) == len(PATH)
        for (x, y), (want_x, want_y) in zip(saved[0], PATH, strict=True):
            assert abs(x - min(max(want_x, 0.01), 0.99)) < 0.01 and abs(y - want_y) < 0.01, saved
        told = station.detection.watched("cua-hang")  # that it records on meanwhile: tests/test_detection_areas.py
        assert told is not None and told.masks

        # a camera chosen with changes unsaved: asked first; once agreed, nothing of the first camera's goes onto it
        draw(page, [[0.1, 0.1], [0.3, 0.1], [0.3, 0.3]])
        page.click(".add-zones")
        expect(root).to_have_attribute("data-zones", "1")
        page.once("dialog", lambda dialog: dialog.dismiss())
        page.select_option("select[name=camera]", "hem-4")
        expect(page.locator("select[name=camera]")).to_have_value("cua-hang")
        expect(root).to_have_attribute("data-zones", "1")
        page.once("dialog", lambda dialog: dialog.accept())
        page.select_option("select[name=camera]", "hem-4")
        expect(root).to_have_attribute("data-zones", "0")
        expect(page.locator(".areas-side .save")).to_be_disabled()
        expect(root).to_have_attribute("data-loaded", "true", timeout=10_000)
        expect(root).to_have_attribute("data-masks", "0")
        expect(page.locator(".areas-summary")).to_have_text("Không có chuyển động trong khoảng này")
        page.click(".areas-side .save")
        expect(root).to_have_attribute("data-saved", "true")
        assert station.camera("hem-4").detect.masks == [] and station.camera("hem-4").detect.zones == []

        page.reload()  # what was saved is what the page shows again
        expect(root).to_have_attribute("data-loaded", "true", timeout=10_000)
        expect(root).to_have_attribute("data-masks", "1")
        page.click("#lang")  # in English, drawn again
        expect(page.locator("h1")).to_have_text("Detection areas")
        expect(root).to_have_attribute("data-loaded", "true", timeout=10_000)
        expect(page.locator(".masks-list li")).to_have_text("Mask 1 Remove")
        expect(page.locator(".zones-list li")).to_have_text("None")
        page.locator(".masks-list button.remove").click()
        expect(root).to_have_attribute("data-masks", "0")
        expect(page.locator(".areas-status")).to_have_text("Changes not saved yet")
        # another screen asked for with a change unsaved: asked first; kept, the page and its address stay
        page.once("dialog", lambda dialog: dialog.dismiss())
        page.click("#events-link")
        expect(page).to_have_url(re.compile(r"#/areas\?camera=cua-hang$"))
        expect(root).to_have_attribute("data-masks", "0")
        asked: list[str] = []

        def agree(dialog: Dialog) -> None:
            asked.append(dialog.type)
            dialog.accept()

        page.once("dialog", agree)
        page.reload()  # with a change unsaved: the browser asks first; agreed, the saved mask is back
        expect(root).to_have_attribute("data-loaded", "true", timeout=10_000)
        expect(root).to_have_attribute("data-masks", "1")
        assert asked == ["beforeunload"]
        # another administrator changed them meanwhile: this page's save is refused, saying so
        page.locator(".masks-list button.remove").click()
        other = client.put("/api/cameras/cua-hang/detection-areas", json={"zones": [[[0, 0], [1, 0], [1, 1]]]},
                           headers={"Authorization": admin_token(client)})
        assert other.status_code == 200, other.text
        page.click(".areas-side .save")
        expect(page.locator(".areas-side .error")).to_contain_text("changed since they were read")
        assert station.camera("cua-hang").detect.masks, "the page's removal was not saved over the other's change"
        page.once("dialog", lambda dialog: dialog.accept())  # leaving it, the unsaved removal dropped
        page.click("#events-link")
        expect(page).to_have_url(re.compile("#/events$"))
        assert not errors

        officer, _ = new_page(browser)
        log_in(officer, base, OPERATOR, OPERATOR_PASSWORD)
        expect(officer.locator(".tile").first).to_be_visible(timeout=20_000)
        officer.goto(f"{base}/#/areas?camera=cua-hang")
        expect(officer.locator("#view")).to_have_text("Chỉ quản trị viên mới quản lý được camera.")


def admin_token(client: Any) -> str:
    answer = client.post("/api/auth/login", json={"username": "admin", "password": os.environ["NVR_ADMIN_PASSWORD"]})
    return f"Bearer {answer.json()['token']}"
