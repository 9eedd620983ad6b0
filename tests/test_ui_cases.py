"""Investigation screens in Debian's Chromium, against one real station recording real RTSP cameras: a case
built in the playback (two cameras, one with a microphone), an event and a bookmark, exported and checked
with `nvr verify`; motion search by drawing an area on a served scene; a household sees none of the cases."""

from __future__ import annotations

import io
import json
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import av
import httpx
import pytest
from playwright.sync_api import Dialog, Page, Route, expect

from nvr.station import Station
from storage.clock import now_ms
from tests.conftest import OPERATOR, OPERATOR_PASSWORD, start_station, station_config, wait_for
from tests.support.district_hold import hold_for_district
from tests.support.rtsp import RtspServer
from tests.support.web import chromium, log_in, serving
from tests.test_export import assert_covers_its_range, assert_verify_refuses_every_change, nvr_verify
from tests.test_motion_search import PATH, UPPER
from tests.test_ui_playback import ALL_READY, CLOCK, new_page, wall_clock

ADMIN, ADMIN_PASSWORD = "admin", "admin-test-password"  # tests/conftest.py sets NVR_ADMIN_PASSWORD
VIEWER, VIEWER_PASSWORD = "nha-5", "household-pass"
STAFF_ONLY = "Chỉ cán bộ trực và quản trị viên mới dùng được hồ sơ vụ việc."
CLOSED_SEGMENTS = 8  # 16 s of closed 2-second segments of each plain camera before the tests start
Client = Any  # FastAPI's TestClient, logged in as the operator


@pytest.fixture(scope="module")
def microphone() -> Iterator[RtspServer]:
    with RtspServer(["loa"], audio={"loa": "aac"}) as server:
        yield server


@pytest.fixture(scope="module")
def station(cameras: RtspServer, microphone: RtspServer, scene_cameras: RtspServer,
            tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Station, Client]]:
    """hem-4 (no sound) and loa (AAC) without detection; cua-hang, the served shopfront where a motorbike
    crosses every 24 s, with detection (its motion grids). A household granted hem-4."""
    off = {"enabled": False}
    config = station_config(tmp_path_factory.mktemp("cases"), [
        {"name": "hem-4", "record_url": cameras.url("cam0"), "title": "Hẻm 4", "detect": off},
        {"name": "loa", "record_url": microphone.url("loa"), "title": "Ngã tư có loa", "detect": off},
        {"name": "cua-hang", "record_url": scene_cameras.url("xe-may"), "title": "Cửa hàng"}])
    started: list[Any] = []
    station, client = start_station(config, started)
    try:
        station.accounts.add(VIEWER, VIEWER_PASSWORD, "viewer")
        station.accounts.grant(VIEWER, ["hem-4"])
        for name in ("hem-4", "loa"):
            wait_for(lambda n=name: len(station.index.segments(n, 0, 2**62)) >= CLOSED_SEGMENTS, 60,
                     f"{CLOSED_SEGMENTS} segments of {name}")
        yield station, client
    finally:
        station.stop()


def operator_page(browser: Any, base: str, **options: Any) -> tuple[Page, list[str]]:
    page, errors = new_page(browser, viewport={"width": 1600, "height": 1000}, **options)
    log_in(page, base, OPERATOR, OPERATOR_PASSWORD)
    expect(page.locator(".tile").first).to_be_visible(timeout=20_000)
    return page, errors


def seek_to(page: Page, station: Station, ms: int) -> None:
    """Type the time into the player; wait until the clock is there and every camera shows it."""
    page.fill(".jump input", wall_clock(station, ms))
    page.press(".jump input", "Enter")
    page.wait_for_function(f"() => Math.abs({CLOCK}.now() - {ms - ms % 1000}) < 5", timeout=10_000)
    page.wait_for_function(ALL_READY, timeout=30_000)


def add_to_case(page: Page, title: str | None = None) -> None:
    """Fill the open add-to-case dialog: a new case titled `title`, or the case it offers (the last used)."""
    dialog = page.locator("dialog.case-dialog")
    expect(dialog).to_be_visible()
    if title is not None:
        dialog.locator("select[name=case]").select_option("new")
        dialog.locator("input[name=title]").fill(title)
    dialog.locator("button[type=submit]").click()
    expect(dialog.locator(".done-text")).to_contain_text("Đã thêm")


def test_a_case_built_in_the_ui_from_two_cameras_exports_and_verifies(station: tuple[Station, Client],
                                                                      tmp_path: Path) -> None:
    nvr, client = station
    segments = {name: nvr.index.segments(name, 0, 2**62) for name in ("hem-4", "loa")}
    start = max(found[0].start_ms for found in segments.values()) + 5000
    start -= start % 1000  # typed times are whole seconds
    end = start + 6000
    assert end + 3000 < min(found[-1].end_ms for found in segments.values()), "closed footage covers the case"
    event = nvr.events.open("hem-4", "motion", start + 1000, 0.9, [(0.1, 0.2, 0.3, 0.4)])
    nvr.events.update(event.id, end_ms=start + 3000)
    with serving(nvr) as base, chromium() as browser:
        page, errors = operator_page(browser, base, accept_downloads=True)
        asked: list[str] = []  # the confirmations asked for; the first to close the case is turned down

        def answer(confirm: Dialog) -> None:
            asked.append(confirm.message)
            if confirm.message.startswith("Đóng hồ sơ") and asked.count(confirm.message) == 1:
                confirm.dismiss()
            else:
                confirm.accept()

        page.on("dialog", answer)
        page.goto(f"{base}/#/playback?cameras=hem-4,loa&at={start}")
        page.wait_for_function(ALL_READY, timeout=30_000)

        # the range of both cameras, marked at the play head, shaded on the timeline, goes to a new case
        page.click(".controls .mark-in")
        seek_to(page, nvr, end)
        page.click(".controls .mark-out")
        expect(page.locator(".player")).to_have_attribute("data-selection", f"{start},{end}")
        page.click(".controls .add-to-case")
        add_to_case(page, "Mất xe máy hẻm 4")
        page.click("dialog.case-dialog .close")
        timeline = page.locator(".timeline")
        expect(timeline).to_have_attribute("data-locked", "2", timeout=10_000)  # one lock a camera row

        # a bookmark at the head with a note: on the timeline, in the list, its note edited, added to the case
        page.click(".controls .add-bookmark")
        page.fill("dialog.bookmark-dialog input[name=note]", "Người đội mũ đỏ")
        page.click("dialog.bookmark-dialog button[type=submit]")
        expect(timeline).to_have_attribute("data-bookmarks", "1", timeout=10_000)
        marks = page.locator(".bookmark-list li")
        expect(marks).to_have_count(1)
        page.click(".bookmark-list summary")
        marks.locator(".edit").click()
        marks.locator("input[name=note]").fill("Người đội mũ đỏ, áo xanh")
        marks.locator(".save").click()
        expect(marks.locator(".note")).to_have_text("Người đội mũ đỏ, áo xanh")
        (bookmark,) = client.get("/api/bookmarks?camera=hem-4").json()
        assert bookmark["note"] == "Người đội mũ đỏ, áo xanh" and abs(bookmark["at_ms"] - end) < 5
        marks.locator(".add-to-case").click()
        add_to_case(page)  # the case just made is offered first
        page.click("dialog.case-dialog .close")

        # an event from the events page
        page.click("#events-link")
        found = page.locator(f'.event-list li[data-event="{event.id}"]')
        found.locator(".add-to-case").click()
        add_to_case(page)
        page.locator("dialog.case-dialog .open-case").click()

        # the case: four items; the bookmark's minute goes; locked while open; the station's key
        items = page.locator(".case-items tbody tr")
        expect(items).to_have_count(4)
        expect(page.locator(".lock-note")).to_contain_text("được khoá")
        key = client.get("/api/station").json()
        expect(page.locator(".fingerprint")).to_contain_text(key["key_fingerprint"])
        items.filter(has_text="từ đánh dấu").locator(".remove").click()
        expect(items).to_have_count(3)
        assert "thôi được khoá" in asked[-1], "what leaves an open case is asked for first"
        (case,) = client.get("/api/cases").json()
        assert [(i["camera"], i["start_ms"], i["end_ms"]) for i in case["items"]] == [  # in time order
            ("hem-4", start - 4000, start + 8000), ("hem-4", start, end), ("loa", start, end)]

        # an administrator's cameras page shows what is locked
        admin, _ = new_page(browser)
        log_in(admin, base, ADMIN, ADMIN_PASSWORD)
        admin.click("#cameras-link")
        expect(admin.locator('#camera-list tr[data-camera="loa"] .locked')).to_contain_text("khoá")
        expect(admin.locator(".disk")).to_contain_text("khoá")
        admin.close()

        # exported with its progress, downloaded through the page's link
        page.click(".case-export .export-start")
        link = page.locator(".case-export .export-download")
        expect(link).to_be_visible(timeout=60_000)
        with page.expect_download(timeout=20_000) as download:
            link.click()
        data = Path(download.value.path()).read_bytes()

        # closed (the lock goes) once the officer confirms it, then deleted after the confirmation
        page.click(".case-edit .toggle-status")
        assert asked[-1].startswith("Đóng hồ sơ «Mất xe máy hẻm 4»"), asked
        assert client.get("/api/cases").json()[0]["status"] == "open", "turned down: still open"
        page.click(".case-edit .toggle-status")
        expect(page.locator(".case-page")).to_have_attribute("data-status", "closed")
        expect(page.locator(".lock-note")).to_contain_text("đã đóng")
        page.click(".case-edit .delete-case")
        expect(page.locator(".case-list")).to_be_visible()
        assert client.get("/api/cases").json() == []
        assert not errors

    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        manifest = json.loads(archive.read("manifest.json"))
        assert [clip["camera"] for clip in manifest["clips"]] == ["hem-4", "hem-4", "loa"]
        for clip in manifest["clips"]:
            body = archive.read(clip["file"])
            assert_covers_its_range(body, clip)
            with av.open(io.BytesIO(body), "r") as container:
                sound = list(container.streams.audio)
                heard = sum(frame.samples for frame in container.decode(*sound)) / sound[0].rate if sound else 0.0
            if clip["camera"] == "loa":
                assert heard > 5, "the microphone's sound is in the clip, as long as the pictures"
            else:
                assert not sound
    export = tmp_path / "case.zip"
    export.write_bytes(data)
    accepted = nvr_verify(str(export), "--key", key["public_key"])
    assert accepted.returncode == 0 and accepted.stdout == "ok\n", accepted.stdout + accepted.stderr
    assert_verify_refuses_every_change(data, tmp_path, key["public_key"])


def draw(page: Page, area: list[list[float]]) -> None:
    """Click the polygon's points onto the picture (a hair inside its edges)."""
    box = page.locator(".picture svg").bounding_box()
    assert box is not None
    for x, y in area:
        page.mouse.click(box["x"] + min(max(x, 0.01), 0.99) * box["width"],
                         box["y"] + min(max(y, 0.01), 0.99) * box["height"])
    expect(page.locator(".picture svg")).to_have_attribute("data-points", str(len(area)))


def test_motion_search_by_drawing_finds_the_motorbike_on_the_road_and_nothing_above(
        station: tuple[Station, Client]) -> None:
    nvr, client = station
    event = wait_for(lambda: [e for e in client.get("/api/events?camera=cua-hang&type=motion").json()
                              if e["end_ms"] is not None], 60, "the motorbike's motion event to end")[-1]

    def indexed() -> bool:  # the whole crossing is in the motion grids
        ranges = client.post("/api/cameras/cua-hang/motion-search",
                             json={"start": event["start_ms"] / 1000 - 60, "end": event["end_ms"] / 1000 + 60,
                                   "area": PATH}).json()["ranges"]
        return bool(ranges) and ranges[-1]["end_ms"] >= event["end_ms"]

    wait_for(indexed, 10, "the crossing in the motion grids")
    with serving(nvr) as base, chromium() as browser:
        page, errors = operator_page(browser, base)
        page.goto(f"{base}/#/motion?camera=cua-hang")
        root = page.locator(".motion-page")
        expect(root).to_have_attribute("data-picture", "ready", timeout=10_000)

        draw(page, UPPER)  # the shop fronts and the sky: nothing
        page.click(".motion-form button[type=submit]")
        expect(root).to_have_attribute("data-found", "0")
        expect(page.locator(".motion-summary")).to_have_text("Không có chuyển động trong vùng này")
        assert page.locator(".drawing rect.area-cell").count() == 4 * 16, "the area's cells are shown"

        page.click(".motion-draw .clear")
        expect(page.locator(".picture svg")).to_have_attribute("data-points", "0")
        draw(page, PATH)  # the road: the motorbike
        page.click(".motion-form button[type=submit]")
        page.wait_for_function("() => Number(document.querySelector('.motion-page').dataset.found) > 0",
                               timeout=10_000)
        assert page.locator(".drawing rect.moved").count() >= 3, "the cells that moved show over the picture"
        found = page.locator(".motion-results li").evaluate_all(
            "items => items.map(i => [Number(i.dataset.start), Number(i.dataset.end)])")
        hits = [start for start, end in found if start < event["end_ms"] and event["start_ms"] < end]
        assert len(hits) == 1, (found, event)

        # a moment found plays in the playback, from just before it
        hit = hits[0]
        page.click(f'.motion-results li[data-start="{hit}"]')
        expect(page.locator(".ptile")).to_have_count(1)
        expect(page.locator('.ptile[data-camera="cua-hang"]')).to_be_visible()
        page.wait_for_function(f"""() => {{ const c = {CLOCK}; return c.playing
            && c.now() > {hit} - 5500 && c.now() < {hit} + 10000; }}""", timeout=30_000)
        assert not errors


def test_a_household_sees_no_case_screens_and_the_api_refuses_it(station: tuple[Station, Client]) -> None:
    nvr, _client = station
    segments = nvr.index.segments("hem-4", 0, 2**62)
    event = nvr.events.open("hem-4", "motion", segments[2].start_ms, 0.9, [])
    with serving(nvr) as base, chromium() as browser:
        page, errors = new_page(browser, viewport={"width": 1280, "height": 900})
        log_in(page, base, VIEWER, VIEWER_PASSWORD)
        expect(page.locator(".tile")).to_have_count(1, timeout=20_000)
        expect(page.locator("#cases-link")).to_be_hidden()
        expect(page.locator("#motion-link")).to_be_visible()  # its own camera's motion it may search

        page.goto(f"{base}/#/playback?cameras=hem-4&at={segments[1].start_ms}&event={event.id}")
        expect(page.locator(".event-panel")).to_be_visible(timeout=10_000)
        page.wait_for_function("() => Number(document.querySelector('.timeline')?.dataset.ranges) >= 1",
                               timeout=20_000)
        for hidden in (".controls .evidence", ".bookmark-list", ".event-panel .add-to-case"):
            expect(page.locator(hidden)).to_be_hidden()
        expect(page.locator(".legend .bookmark")).to_have_count(0)

        page.click("#events-link")
        expect(page.locator(f'.event-list li[data-event="{event.id}"]')).to_be_visible()
        expect(page.locator(".event-list .add-to-case")).to_have_count(0)
        for route in ("#/cases", "#/case/1"):
            page.goto(f"{base}/{route}")
            expect(page.locator(".notice")).to_have_text(STAFF_ONLY)
        assert not errors

        token = httpx.post(f"{base}/api/auth/login", json={"username": VIEWER, "password": VIEWER_PASSWORD}).json()
        with httpx.Client(base_url=base, headers={"Authorization": f"Bearer {token['token']}"}) as api:
            refused = [api.get("/api/cases"), api.post("/api/cases", json={"title": "x", "items": []}),
                       api.get("/api/cases/1/export.zip"), api.get("/api/bookmarks"),
                       api.post("/api/bookmarks", json={"camera": "hem-4", "at": segments[1].start_ms / 1000})]
            assert [r.status_code for r in refused] == [403] * len(refused), [r.text for r in refused]


def test_a_case_held_for_the_district_says_so_and_offers_no_change(station: tuple[Station, Client]) -> None:
    nvr, client = station
    first = nvr.index.segments("hem-4", 0, 2**62)[1]
    event = nvr.events.open("hem-4", "motion", first.start_ms, 0.9, [])
    nvr.events.update(event.id, end_ms=first.start_ms + 1000)
    case = client.post("/api/cases", json={"title": "Giữ cho quận", "items": [
        {"camera": "hem-4", "start": first.start_ms / 1000, "end": first.end_ms / 1000}]}).json()
    district_case = hold_for_district(nvr.index, case["id"])
    with serving(nvr) as base, chromium() as browser:
        page, errors = operator_page(browser, base)
        page.goto(f"{base}/#/case/{case['id']}")
        expect(page.locator(".district-note")).to_contain_text(f"#{district_case} của máy chủ quận")
        for hidden in (".case-edit .toggle-status", ".case-edit .delete-case", ".case-items .remove"):
            expect(page.locator(hidden)).to_be_hidden()
        expect(page.locator(".case-edit input[name=title]")).to_be_disabled()
        page.goto(f"{base}/#/events")
        page.locator(f'.event-list li[data-event="{event.id}"] .add-to-case').click()
        submit = page.locator("dialog.case-dialog button[type=submit]")
        expect(submit).to_be_enabled()  # the open cases came
        offered = page.locator("dialog.case-dialog select[name=case] option").evaluate_all(
            "options => options.map((option) => option.value)")
        assert str(case["id"]) not in offered, offered
        assert not errors, errors


def test_the_case_dialog_submitted_early_or_twice_leaves_the_page_and_adds_once(station: tuple[Station, Client]
                                                                                 ) -> None:
    """A quick officer (or a slow station) submits the add-to-case dialog before its list of open cases came:
    the page stays (no reload with the fields in the address), and the dialog works once it has loaded. A
    second submit while the first is on its way makes no second case."""
    nvr, client = station
    first = nvr.index.segments("hem-4", 0, 2**62)[1]
    event = nvr.events.open("hem-4", "motion", first.start_ms, 0.9, [])
    nvr.events.update(event.id, end_ms=first.start_ms + 1000)
    held: list[Route] = []
    with serving(nvr) as base, chromium() as browser:
        page, errors = operator_page(browser, base)
        def hold(route: Route) -> None:  # its answer waits for the test (Playwright takes no builtin here)
            held.append(route)

        page.route("**/api/cases?status=open", hold)
        page.goto(f"{base}/#/events")
        page.locator(f'.event-list li[data-event="{event.id}"] .add-to-case').click()
        dialog = page.locator("dialog.case-dialog")
        expect(dialog).to_be_visible()
        expect(dialog.locator("button[type=submit]")).to_be_disabled()
        page.evaluate("document.querySelector('dialog.case-dialog form').requestSubmit()")
        page.wait_for_function("() => true")  # a turn of the page's event loop
        assert page.url == f"{base}/#/events", page.url
        wait_for(lambda: page.evaluate("1") and bool(held), 10, "the open cases asked for")  # evaluate: events come
        held[0].continue_()
        add_to_case(page, "Bấm vội")
        assert page.url == f"{base}/#/events"

        dialog.locator(".close").click()
        page.unroute("**/api/cases?status=open")
        page.locator(f'.event-list li[data-event="{event.id}"] .add-to-case').click()
        dialog.locator("select[name=case]").select_option("new")
        dialog.locator("input[name=title]").fill("Bấm hai lần")
        held.clear()
        page.route("**/api/cases", lambda route: hold(route) if route.request.method == "POST" else route.continue_())
        dialog.locator("button[type=submit]").click()
        wait_for(lambda: page.evaluate("1") and bool(held), 10, "the new case sent")
        page.evaluate("document.querySelector('dialog.case-dialog form').requestSubmit()")
        page.wait_for_function("() => true")
        held[0].continue_()
        expect(dialog.locator(".done-text")).to_contain_text("Đã thêm")
        assert len(held) == 1, "sent once"
        assert [c["title"] for c in client.get("/api/cases").json()].count("Bấm hai lần") == 1
        assert not errors, errors


def test_the_events_page_says_when_it_shows_only_the_newest_and_shows_the_older_ones(
        station: tuple[Station, Client]) -> None:
    """A busy post makes hundreds of events a day: the page's first 500 must not pass for all of them."""
    nvr, _client = station
    old = now_ms() - 20 * 3_600_000  # older than every other test's events: theirs stay on the first page
    made = [nvr.events.open("loa", "motion", old + 2000 * k, 0.5, []).id for k in range(520)]
    for k, event_id in enumerate(made):
        nvr.events.update(event_id, end_ms=old + 2000 * k + 1000)
    with serving(nvr) as base, chromium() as browser:
        page, errors = operator_page(browser, base)
        page.goto(f"{base}/#/events")
        form = page.locator(".event-filter")
        form.locator("select[name=camera]").select_option("loa")
        form.locator("button[type=submit]").click()
        items = page.locator(".event-list li")
        more = page.locator(".more-events")
        expect(more).to_be_visible(timeout=10_000)
        expect(items).to_have_count(500)
        expect(more).to_contain_text("500 sự kiện mới nhất")
        more.click()
        expect(items).to_have_count(520, timeout=10_000)
        expect(more).to_be_hidden()
        shown = [int(i) for i in items.evaluate_all("items => items.map(i => i.dataset.event)")]
        assert sorted(shown) == sorted(made), "each once, none lost"

        form.locator("input[name=start]").fill("2026-11-30 10:00")  # reversed: said in the page's language
        form.locator("input[name=end]").fill("2026-11-30 09:00")
        form.locator("button[type=submit]").click()
        expect(page.locator(".events-page > .error")).to_have_text("Thời điểm kết thúc phải sau thời điểm bắt đầu")
        said = page.evaluate("""async () => { const { inWords } = await import('/ui/api.js'); return [
            'items[0].start: no footage of hem-4 in the requested range', "no camera named 'cổng'",
            'the range is longer than the limit of 31 days', "start: 'hôm qua' is not a time", 'disk full',
        ].map(inWords); }""")
        assert said == ["Không có phim của hem-4 trong khoảng thời gian này", "Không có camera cổng",
                        "Khoảng thời gian dài quá giới hạn 31 ngày",
                        "Không hiểu thời điểm này; ví dụ 14:30:00 hoặc 22/11/2026 14:30", "disk full"]
        assert not errors
