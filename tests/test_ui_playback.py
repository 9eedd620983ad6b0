"""Playback in Debian's Chromium, against the real server and RTSP cameras: four cameras on one clock, the
timeline, events that lead to footage and are acknowledged, and the grid's layouts, pages and alert sound."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, expect
from playwright.sync_api import TimeoutError as PlaywrightTimeoutError

from nvr.station import Station
from tests.conftest import OPERATOR, OPERATOR_PASSWORD, start_station, station_config, wait_for
from tests.support.rtsp import RtspServer
from tests.support.web import chromium, serving
from tests.test_ui import log_in

CAMERAS = ["a", "b", "c", "d"]
FOOTAGE_S = 40  # recorded before the browser opens ...
SYNC_FOOTAGE_S = 20  # ... or this much for the sync test, alone in the suite's solo phase, where the module's set-up
# is made again for it: 20 s more of recording in the suite's serial part (it plays from a second after the common
# start to 25 s after it, by when 15 s more have been recorded)
SYNC_S = 0.2  # the pictures stay this close to the shared clock, and so to each other
CLOCK = "document.querySelector('.player').player.clock"
SAMPLE = """() => {
  const player = document.querySelector('.player').player;
  const tiles = [...document.querySelectorAll('.ptile')];
  return {clock: player.clock.now(), playing: player.clock.playing, held: player.clock.held,
          states: tiles.map(t => t.dataset.state), videos: tiles.map(t => t.querySelector('video').currentTime * 1000)};
}"""
DIAGNOSIS = """() => {
  const player = document.querySelector('.player').player;
  const clock = player.clock.now();
  return {sample: (SAMPLE)(), rate: player.clock.rate, now: Date.now(), known: player.footage.covers(clock),
          streams: player.tiles.map(t => ({loading: !!t.stream.loading, ranges: t.stream.ranges(),
                                          missing: t.stream.missing, keyframes: t.stream.keyframes.length}))};
}""".replace("SAMPLE", SAMPLE)
ALL_READY = "() => [...document.querySelectorAll('.ptile')].every(t => t.dataset.state === 'ready')"


@pytest.fixture(scope="module")
def station(cameras: RtspServer, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Station]:
    """Four cameras (320x240, 15 fps, a keyframe a second) with SYNC_FOOTAGE_S seconds recorded (`enough_footage`
    waits for the rest), a and b in one area; no detection (events are made by hand); and a fifth, disabled, camera.
    One station for the module: its set-up (the footage) is most of the tests' time."""
    off = {"enabled": False}
    config = station_config(tmp_path_factory.mktemp("playback"), [
        *({"name": name, "record_url": cameras.url(f"cam{i % 2}"), "detect": off, "title": f"Camera {name.upper()}",
           "area": "Hẻm 4" if name < "c" else ""} for i, name in enumerate(CAMERAS)),
        {"name": "e", "record_url": cameras.url("cam0"), "enabled": False}])
    started: list[Any] = []
    station, _client = start_station(config, started)
    try:
        recorded_for(station, SYNC_FOOTAGE_S)
        yield station
    finally:
        station.stop()


@pytest.fixture(autouse=True)
def enough_footage(request: pytest.FixtureRequest, station: Station) -> None:
    """FOOTAGE_S seconds recorded before every test not marked `solo`: the sync test, the one that is, needs only the
    module's set-up (`SYNC_FOOTAGE_S`)."""
    if request.node.get_closest_marker("solo") is None:
        recorded_for(station, FOOTAGE_S)


def recorded_for(station: Station, seconds: float) -> None:
    """Wait until every camera has `seconds` of footage."""
    def enough() -> bool:
        spans = [recorded_ms(station, name) for name in CAMERAS]
        return all(end - start >= seconds * 1000 for start, end in spans)

    wait_for(enough, seconds + 60, f"{seconds} s of footage of every camera")


def recorded_ms(station: Station, camera: str) -> tuple[int, int]:
    segments = station.index.segments(camera, 0, 2**62)
    return (segments[0].start_ms, segments[-1].end_ms) if segments else (0, 0)


def common_start(station: Station) -> int:
    return max(recorded_ms(station, name)[0] for name in CAMERAS) + 1000


def wall_clock(station: Station, ms: float) -> str:
    return datetime.fromtimestamp(ms / 1000, UTC).astimezone(station.config.zone).strftime("%H:%M:%S")


def new_page(browser: Browser, **options: Any) -> tuple[Page, list[str]]:
    """A page, and the script errors it meets (none is expected)."""
    page = browser.new_page(**options)
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    return page, errors


def open_playback(browser: Browser, base: str, query: str, **options: Any) -> tuple[Page, list[str]]:
    """An operator's page on the playback of `query` (and the script errors it meets)."""
    page, errors = new_page(browser, **options)
    log_in(page, base, OPERATOR, OPERATOR_PASSWORD)
    expect(page.locator(".tile").first).to_be_visible(timeout=20_000)
    page.goto(f"{base}/#/playback?{query}")
    return page, errors


def watch_sync(page: Page, seconds: float, rate: float) -> tuple[float, float]:
    """Sample the clock and every video for `seconds` while playing at `rate`; after checking that the clock
    really moved at `rate`: the largest distance of a video from the clock, and between two videos."""
    distance, spread, first, last = 0.0, 0.0, None, None
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        sample = page.evaluate(SAMPLE)
        assert sample["playing"], "still playing"
        if all(state == "ready" for state in sample["states"]):
            distance = max(distance, *(abs(video - sample["clock"]) for video in sample["videos"]))
            spread = max(spread, max(sample["videos"]) - min(sample["videos"]))
            first = first or (time.monotonic(), sample["clock"])
            last = (time.monotonic(), sample["clock"])
        page.wait_for_timeout(100)
    assert first and last and last[0] - first[0] > seconds / 2, "the videos were ready most of the time"
    speed = (last[1] - first[1]) / 1000 / (last[0] - first[0])
    assert 0.5 * rate < speed < 1.2 * rate, f"the clock ran at {speed:.2f}x, not {rate}x"
    return distance / 1000, spread / 1000


def wait_in_player(page: Page, condition: str, seconds: float, what: str) -> None:
    """Wait for `condition` (a script) to hold in the page; if it does not within `seconds`, say so with the
    player's state: the clock, whether it is held, and each camera's state."""
    try:
        page.wait_for_function(condition, timeout=seconds * 1000)
    except PlaywrightTimeoutError:
        raise AssertionError(f"{what}: not within {seconds} s; the player: {page.evaluate(DIAGNOSIS)}") from None


def jump(page: Page, station: Station, target: int) -> None:
    """Type the time `target` (to the second) into the player and wait until every camera shows it: each
    video ready and on the clock (a seek has landed once every picture is at the clock)."""
    page.fill(".jump input", wall_clock(station, target))
    page.press(".jump input", "Enter")
    page.wait_for_function(f"() => Math.abs({CLOCK}.now() - {target}) < 3000", timeout=10_000)
    page.wait_for_function(ALL_READY, timeout=30_000)
    page.wait_for_function(f"() => {{ const s = ({SAMPLE})(); return s.videos.every(v => Math.abs(v - s.clock)"
                           f" < {SYNC_S * 1000}); }}", timeout=10_000)


@pytest.mark.solo  # 0.2 s of sync at 4x in a real browser: 0.36 s once, among three other test processes (2026-12-02)
def test_four_cameras_play_on_one_clock_across_play_seek_and_4x(station: Station) -> None:
    start = common_start(station)
    with serving(station) as base, chromium() as browser:
        page, errors = open_playback(browser, base, f"cameras={','.join(CAMERAS)}&at={start}",
                                     viewport={"width": 1600, "height": 1000})
        expect(page.locator(".ptile")).to_have_count(4)
        page.wait_for_function(ALL_READY, timeout=30_000)
        at = page.evaluate(SAMPLE)
        assert all(abs(video - start) < 70 for video in at["videos"]), "paused on the moment asked for, each video"

        page.click(".controls .play")
        drift = {"play": watch_sync(page, 4, 1)}  # (from the clock, between videos), seconds

        jump(page, station, start + 6000)
        drift["seek"] = watch_sync(page, 3, 1)

        page.select_option(".controls .speed", "4")
        drift["4x"] = watch_sync(page, 4, 4)
        # faster, every video is moved to the clock's moment together once all have shown the last one: the
        # pictures trail the clock by a step, and stay together
        jump(page, station, start)  # back, so that 16x has footage enough before now
        page.select_option(".controls .speed", "16")
        drift["16x"] = watch_sync(page, 1.5, 16)
        print(f"largest distance of a picture from the shared clock and between pictures, seconds: {drift}")
        assert max(max(drift[played]) for played in ("play", "seek", "4x")) < SYNC_S, drift
        assert drift["16x"][1] < SYNC_S, drift

        page.select_option(".controls .speed", "-4")  # backwards by keyframes: every picture a keyframe
        page.wait_for_function(f"() => {CLOCK}.rate === -4")
        # from a moment of its own, paused: 16x may meanwhile have run into the live edge, which pauses the clock
        if page.evaluate(SAMPLE)["playing"]:
            page.click(".controls .play")
        jump(page, station, start + 12000)
        page.click(".controls .play")
        wait_in_player(page, f"() => {CLOCK}.now() < {start + 8000}", 15, "the clock 4 s back at -4x")
        page.click(".controls .play")  # pause: every video comes to the clock's frame
        page.wait_for_function(ALL_READY, timeout=15_000)
        page.wait_for_function(f"() => {{ const s = ({SAMPLE})(); return !s.playing"
                               " && s.videos.every(v => Math.abs(v - s.clock) < 70); }", timeout=10_000)
        still = page.evaluate(SAMPLE)
        page.click(".controls .step-forward")
        page.wait_for_function(f"() => Math.abs({CLOCK}.now() - {still['clock']} - 1000 / 15) < 5")
        assert not errors


def test_the_timeline_zooms_to_a_minute_shows_keyframes_and_a_click_plays_that_moment(station: Station) -> None:
    start = common_start(station)
    with serving(station) as base, chromium() as browser:
        page, errors = open_playback(browser, base, f"cameras=a,b&at={start}", viewport={"width": 1280, "height": 900})
        timeline = page.locator(".timeline")
        page.wait_for_function("() => Number(document.querySelector('.timeline')?.dataset.ranges) >= 2",
                               timeout=20_000)
        box = page.locator(".timeline canvas").bounding_box()
        assert box is not None
        page.mouse.move(box["x"] + box["width"] / 2, box["y"] + 10)
        for _ in range(20):  # the wheel zooms in around the pointer, down to a minute
            page.mouse.wheel(0, -400)
        page.wait_for_function("() => { const d = document.querySelector('.timeline').dataset;"
                               " return d.viewEnd - d.viewStart === 60000; }", timeout=10_000)
        view_start = int(timeline.get_attribute("data-view-start") or 0)
        target = min(max(view_start + 45_000, start + 2000), recorded_ms(station, "a")[1] - 10_000)
        x = box["x"] + (target - view_start) / 60_000 * box["width"]
        assert box["x"] < x < box["x"] + box["width"], "the moment is in the minute shown"
        page.mouse.move(x, box["y"] + 10)  # hovering: the keyframe of that moment, and its time
        page.wait_for_function("() => document.querySelector('.scrub-tip img').naturalWidth === 192", timeout=10_000)
        expect(page.locator(".scrub-tip .tip-text")).to_contain_text(wall_clock(station, target)[:5])
        page.mouse.click(x, box["y"] + 10)
        page.wait_for_function(ALL_READY, timeout=30_000)
        page.wait_for_function(f"""() => {{ const s = ({SAMPLE})();
            return s.playing && s.videos.every(v => v > {target} + 1500 && Math.abs(v - s.clock) < 200); }}""",
                               timeout=20_000)
        first = page.evaluate(SAMPLE)
        assert first["clock"] - target < 8000, "played from the moment clicked"

        timeline.focus()  # the keys zoom too, from a minute back out
        page.keyboard.press("-")
        page.wait_for_function("() => { const d = document.querySelector('.timeline').dataset;"
                               " return d.viewEnd - d.viewStart === 120000; }", timeout=5_000)
        assert not errors


def test_footage_stamped_before_the_clock_was_set_is_hatched_and_says_how_late(station: Station) -> None:
    from storage.clock_steps import ClockStep, ClockSteps

    start = common_start(station)
    step = ClockStep(start + 15_000, start + 15_000 + 3_600_000, since_ms=start - 600_000)  # an hour forward
    kept = station.retention.clock_steps
    station.retention.clock_steps = ClockSteps([step])
    late = "giờ thật muộn hơn 1.0 giờ"
    try:
        with serving(station) as base, chromium() as browser:
            page, errors = open_playback(browser, base, f"cameras=a,b&at={start + 5000}",
                                         viewport={"width": 1280, "height": 900})
            page.wait_for_function("() => Number(document.querySelector('.timeline')?.dataset.clockSteps) === 2",
                                   timeout=20_000)  # one hatched stretch on each camera's row
            expect(page.locator(".timeline .legend .clock_step")).to_have_text("Giờ ghi theo đồng hồ cũ")
            page.wait_for_function(ALL_READY, timeout=30_000)
            expect(page.locator('.ptile[data-camera="a"] .tile-note')).to_contain_text(late)
            view = page.evaluate("() => { const d = document.querySelector('.timeline').dataset;"
                                 " return [Number(d.viewStart), Number(d.viewEnd)]; }")
            box = page.locator(".timeline canvas").bounding_box()
            assert box is not None
            x = box["x"] + (start + 5000 - view[0]) / (view[1] - view[0]) * box["width"]
            page.mouse.move(x, box["y"] + 10)
            expect(page.locator(".scrub-tip .tip-text")).to_contain_text(late)
            jump(page, station, start + 25_000)  # after the step: the time is right, nothing said
            expect(page.locator('.ptile[data-camera="a"] .tile-note')).to_have_text("")
            assert not errors
    finally:
        station.retention.clock_steps = kept


def test_a_camera_whose_recordings_fail_to_load_leaves_the_others_shown_and_says_so(station: Station) -> None:
    """One camera's failed request (removed meanwhile, refused, a moment's error) emptied the timeline of every
    camera of the playback: they were all asked together and dropped together."""
    start = common_start(station)
    with serving(station) as base, chromium() as browser:
        page, errors = new_page(browser, viewport={"width": 1280, "height": 900})
        log_in(page, base, OPERATOR, OPERATOR_PASSWORD)
        expect(page.locator(".tile").first).to_be_visible(timeout=20_000)
        page.route("**/api/cameras/b/recordings?*", lambda route: route.fulfill(status=500, body="{}"))
        page.goto(f"{base}/#/playback?cameras=a,b&at={start + 5000}")
        page.wait_for_function("() => Number(document.querySelector('.timeline')?.dataset.unknown) === 1",
                               timeout=20_000)
        assert int(page.eval_on_selector(".timeline", "t => t.dataset.ranges")) >= 1, "camera a's footage is drawn"
        view = page.evaluate("() => { const d = document.querySelector('.timeline').dataset;"
                             " return [Number(d.viewStart), Number(d.viewEnd)]; }")
        box = page.locator(".timeline canvas").bounding_box()
        assert box is not None
        x = box["x"] + (start + 5000 - view[0]) / (view[1] - view[0]) * box["width"]
        page.mouse.move(x, box["y"] + 22 + 10)  # camera b's row
        expect(page.locator(".scrub-tip .tip-text")).to_contain_text("Chưa tải được dữ liệu ghi hình của camera này")
        page.mouse.move(x, box["y"] + 10)  # camera a's row: recorded there
        expect(page.locator(".scrub-tip .tip-text")).not_to_contain_text("Chưa tải được")
        assert not errors


def test_a_clock_steps_hatching_covers_its_footage_not_the_gaps_between(station: Station) -> None:
    """A step's span may hold gaps (the station was off between two runs on the old clock): hatching them said that
    footage there was stamped on an old clock where there is none."""
    start = common_start(station)

    def iso(ms: int) -> str:
        return datetime.fromtimestamp(ms / 1000, UTC).isoformat()

    answer = {"camera": "a", "ranges": [{"start": iso(start), "end": iso(start + 10_000)},
                                        {"start": iso(start + 20_000), "end": iso(start + 30_000)}],
              "gaps": [{"start": iso(start + 10_000), "end": iso(start + 20_000), "reason": "stream ended"}],
              "clock_steps": [{"since": iso(start - 60_000), "before": iso(start + 25_000),
                               "after": iso(start + 3_625_000), "seconds": 3600.0}]}
    with serving(station) as base, chromium() as browser:
        page, errors = new_page(browser, viewport={"width": 1280, "height": 900})
        log_in(page, base, OPERATOR, OPERATOR_PASSWORD)
        expect(page.locator(".tile").first).to_be_visible(timeout=20_000)
        page.route("**/api/cameras/a/recordings?*", lambda route: route.fulfill(json=answer))
        page.goto(f"{base}/#/playback?cameras=a&at={start + 5000}")
        page.wait_for_function("() => Number(document.querySelector('.timeline')?.dataset.clockSteps) === 1",
                               timeout=20_000)
        assert page.eval_on_selector(".timeline", "t => t.dataset.hatched") == "2", "each recording, not the gap"
        assert not errors


def test_a_typed_time_on_a_day_no_month_has_is_refused_not_moved_to_the_next_month(station: Station) -> None:
    with serving(station) as base, chromium() as browser:
        page, errors = open_playback(browser, base, f"cameras=a&at={common_start(station)}")
        parsed = page.evaluate("""async () => {
            const { parseTyped, dateTime } = await import('/ui/timefmt.js');
            const at = Date.UTC(2026, 1, 10, 3);  // 2026-02-10 10:00 at the post
            return ['31/02 04:15', '30/02/2026 04:15', '2026-04-31 08:00', '29/02/2028 04:15', '28/02 04:15',
                    '31/12 23:59:59'].map((typed) => { const ms = parseTyped(typed, at); return ms && dateTime(ms); });
        }""")
        assert parsed == [None, None, None, "2028-02-29 04:15:00", "2026-02-28 04:15:00", "2026-12-31 23:59:59"]
        page.fill(".jump input", "31/02 04:15")
        page.press(".jump input", "Enter")
        assert page.eval_on_selector(".jump input", "input => input.validationMessage").startswith("Không hiểu")
        assert not errors


def oscillators(page: Page) -> int:
    return int(page.evaluate("() => window.tones"))


COUNT_TONES = """window.tones = 0;
const make = AudioContext.prototype.createOscillator;
AudioContext.prototype.createOscillator = function () { window.tones += 1; return make.call(this); };"""


def test_grid_alert_sound_mutes_and_an_event_in_the_feed_plays_and_is_acknowledged(station: Station) -> None:
    first_a = recorded_ms(station, "a")[0]
    event = station.events.open("a", "motion", first_a + 12_000, 0.8, [(0.1, 0.2, 0.3, 0.4)])
    event = station.events.update(event.id, end_ms=first_a + 15_000)
    with serving(station) as base, chromium() as browser:
        page, errors = new_page(browser, viewport={"width": 1600, "height": 1000})
        page.add_init_script(COUNT_TONES)
        log_in(page, base, OPERATOR, OPERATOR_PASSWORD)
        item = page.locator(f'#feed li[data-event="{event.id}"]')
        expect(item).to_be_visible(timeout=20_000)
        expect(page.locator(".grid .tile:not([hidden])")).to_have_count(5)
        assert page.get_attribute("#grid", "data-layout") == "3", "five cameras: 3x3"

        # a camera full screen gets its main stream
        with page.expect_request(lambda r: r.url.endswith("/api/cameras/a/live") and '"main"' in (r.post_data or "")):
            page.click('.tile[data-camera="a"] .full')
        assert page.evaluate("() => document.fullscreenElement?.dataset.camera") == "a"
        page.evaluate("() => document.exitFullscreen()")

        # a new alert: the tile lights up and the sound plays, twice two tones; muted, it is silent
        wait_for(lambda: station.event_bus.count, 10, "the screen listens")
        alert = station.events.open("b", "motion", int(time.time() * 1000), 0.9, [])
        station.event_bus.publish(alert)
        expect(page.locator('.tile[data-camera="b"].alerting')).to_be_visible(timeout=10_000)
        page.wait_for_function("() => window.tones === 2", timeout=5_000)
        station.events.acknowledge(alert.id, "duty", "")  # seen on another screen: the highlight goes
        seen = station.events.get(alert.id)
        assert seen is not None
        station.event_bus.publish(seen)
        expect(page.locator('.tile[data-camera="b"].alerting')).to_have_count(0, timeout=10_000)
        page.click(".grid-bar .mute")
        expect(page.locator(".grid-bar .mute")).to_have_attribute("aria-pressed", "true")
        muted = station.events.open("c", "tamper_covered", int(time.time() * 1000), 1.0, [])
        station.event_bus.publish(muted)
        expect(page.locator(f'#feed li[data-event="{muted.id}"]')).to_be_visible(timeout=10_000)
        expect(page.locator('.tile[data-camera="c"].alerting')).to_be_visible()
        assert oscillators(page) == 2

        # the event in the feed plays from just before it, on its own camera
        item.click()
        expect(page.locator(".ptile")).to_have_count(1)
        expect(page.locator(".event-panel .what")).to_have_text("Chuyển động")
        page.wait_for_function(f"""() => {{ const s = ({SAMPLE})();
            return s.playing && s.states[0] === 'ready' && s.videos[0] > {event.start_ms} - 5000
              && Math.abs(s.videos[0] - s.clock) < 200; }}""", timeout=30_000)
        page.wait_for_function(f"() => ({SAMPLE})().videos[0] > {event.start_ms} + 500", timeout=20_000)
        began = page.evaluate(SAMPLE)["clock"]
        assert event.end_ms is not None and began < event.end_ms + 10_000, "it plays the event, not later footage"

        # its area's other camera joins on demand; the other area stays out
        page.click(".event-panel .nearby")
        expect(page.locator(".ptile")).to_have_count(2)
        assert page.eval_on_selector_all(".ptile", "tiles => tiles.map(t => t.dataset.camera)") == ["a", "b"]

        # acknowledged with a note: who and when, kept and audited
        panel = page.locator(".event-panel")
        panel.locator("input[name=note]").fill("Người nhà về muộn, đã kiểm tra")
        panel.locator(".ack-form button").click()
        expect(panel.locator(".ack-done")).to_contain_text("Đã xác nhận bởi duty")
        expect(panel.locator(".ack-done")).to_contain_text("Người nhà về muộn, đã kiểm tra")
        acked = station.events.get(event.id)
        assert acked is not None and acked.ack is not None
        assert (acked.ack.by, acked.ack.note) == ("duty", "Người nhà về muộn, đã kiểm tra")
        assert [e.detail for e in station.audit.entries(start_ms=0, end_ms=2**62, action="event_ack")]
        assert not errors


def test_grid_pages_the_events_page_and_a_pinched_timeline_on_a_phone(station: Station) -> None:
    event = station.events.open("d", "video_loss", recorded_ms(station, "d")[0] + 5000, 1.0, [])
    with serving(station) as base, chromium() as browser:
        page, errors = new_page(browser, viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True)
        log_in(page, base, OPERATOR, OPERATOR_PASSWORD)
        shown = page.locator(".grid .tile:not([hidden])")
        expect(shown).to_have_count(5, timeout=20_000)
        page.select_option(".grid-bar .layout", "2")
        expect(page.locator(".grid-bar .page")).to_have_text("Trang 1/2")
        expect(shown).to_have_count(4)
        assert page.evaluate("() => document.documentElement.scrollWidth") <= 390
        width = shown.first.evaluate("tile => tile.getBoundingClientRect().width")
        assert width > 300, "one tile fills the phone's width"
        page.click(".grid-bar .next")
        expect(page.locator(".grid-bar .page")).to_have_text("Trang 2/2")
        assert shown.evaluate_all("tiles => tiles.map(t => t.dataset.camera)") == ["e"]
        expect(page.locator(".grid-bar .next")).to_be_disabled()

        # the events page: found by type, played on a tap
        page.click("#events-link")
        page.select_option(".event-filter select[name=type]", "video_loss")
        page.click(".event-filter button[type=submit]")
        found = page.locator(".event-list li")
        expect(found).to_have_count(1)
        expect(found).to_have_attribute("data-event", str(event.id))
        assert page.evaluate("() => document.documentElement.scrollWidth") <= 390
        found.locator(".what").click()
        expect(page.locator(".ptile")).to_have_count(1)
        page.wait_for_function("() => Number(document.querySelector('.timeline')?.dataset.ranges) >= 1",
                               timeout=20_000)
        assert page.evaluate("() => document.documentElement.scrollWidth") <= 390, "the player fits the phone"

        # two fingers pinch the timeline: it zooms
        page.locator(".timeline canvas").scroll_into_view_if_needed()
        canvas = page.locator(".timeline canvas").bounding_box()
        assert canvas is not None
        span = page.evaluate("() => { const d = document.querySelector('.timeline').dataset;"
                             " return d.viewEnd - d.viewStart; }")
        touch = page.context.new_cdp_session(page)
        y = canvas["y"] + 10

        def fingers(kind: str, left: float, right: float) -> None:
            points = [] if kind == "touchEnd" else [{"x": left, "y": y, "id": 1}, {"x": right, "y": y, "id": 2}]
            touch.send("Input.dispatchTouchEvent", {"type": kind, "touchPoints": points})

        middle = canvas["x"] + canvas["width"] / 2
        fingers("touchStart", middle - 40, middle + 40)
        for spread in range(50, 130, 10):
            fingers("touchMove", middle - spread, middle + spread)
        fingers("touchEnd", 0, 0)
        page.wait_for_function(f"() => {{ const d = document.querySelector('.timeline').dataset;"
                               f" return d.viewEnd - d.viewStart < {span} / 2; }}", timeout=5_000)
        assert not errors
