"""The station screen in Debian's Chromium, driven by Playwright, against the real server and cameras."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import av
import pytest

from nvr.first_admin import PASSWORD_FILE
from tests.conftest import OPERATOR, OPERATOR_PASSWORD, station_config, wait_for
from tests.support.rtsp import RtspServer
from tests.support.web import chromium, log_in, serving

PLAYING = """() => [...document.querySelectorAll('.tile video')].length === %d &&
  [...document.querySelectorAll('.tile video')].every(v => v.videoWidth > 0)"""
FRAMES = "() => [...document.querySelectorAll('.tile video')].map(v => v.getVideoPlaybackQuality().totalVideoFrames)"


@pytest.fixture
def station(scene_cameras: RtspServer, tmp_path: Path, make_station):
    """A quiet alley (hem-4) and a shopfront where a motorbike crosses from 8 s, every 24 s (nga-tu)."""
    config = station_config(tmp_path, [{"name": "hem-4", "record_url": scene_cameras.url("yen-tinh")},
                                       {"name": "nga-tu", "record_url": scene_cameras.url("xe-may")}])
    station, _client = make_station(config)
    wait_for(lambda: len(station.index.segments("hem-4", 0, 2**62)) >= 2, 20, "footage")
    return station


def test_operator_watches_live_sees_alerts_browses_the_timeline_and_downloads_a_clip(station) -> None:
    with serving(station) as base, chromium() as browser:
        page = browser.new_page(viewport={"width": 1920, "height": 1080}, accept_downloads=True)
        log_in(page, base, OPERATOR, OPERATOR_PASSWORD)
        page.wait_for_function(PLAYING % 2, timeout=20_000)
        before = page.evaluate(FRAMES)
        page.wait_for_function(f"() => ({FRAMES})().every((n, i) => n > {before}[i] + 10)", timeout=20_000)
        assert page.get_attribute("html", "lang") == "vi"

        # the motorbike is detected: its tile lights up and the feed shows the event with its snapshot
        page.wait_for_selector('.tile[data-camera="nga-tu"].alerting', timeout=30_000)
        page.wait_for_function("""() => document.querySelector('#feed li[data-camera="nga-tu"] img')
                                  ?.naturalWidth === 640""", timeout=10_000)
        assert page.locator('.tile[data-camera="hem-4"].alerting').count() == 0
        assert page.locator('#feed li[data-camera="hem-4"]').count() == 0

        page.click('.tile[data-camera="hem-4"] a')
        page.wait_for_function("() => Number(document.querySelector('.timeline')?.dataset.ranges) > 0", timeout=10_000)
        page.wait_for_function("() => document.querySelector('video.live').videoWidth > 0", timeout=20_000)
        first = station.index.segments("hem-4", 0, 2**62)[0]
        zone = station.config.zone
        start = datetime.fromtimestamp(first.start_ms / 1000 + 1, UTC).astimezone(zone)
        end = datetime.fromtimestamp(first.start_ms / 1000 + 3, UTC).astimezone(zone)
        page.fill("input[name=from]", start.strftime("%H:%M:%S"))
        page.fill("input[name=to]", end.strftime("%H:%M:%S"))
        with page.expect_download(timeout=20_000) as download:
            page.click(".clip button[type=submit]")
        with av.open(download.value.path()) as clip:
            frames = sum(1 for _ in clip.decode(video=0))
        assert frames >= 15, "the downloaded clip plays: at least a second of frames"

        page.click("#lang")
        assert page.inner_text(".clip h2") == "Export a clip"
        assert page.get_attribute("html", "lang") == "en"


def test_household_sees_only_its_camera_on_a_phone(station) -> None:
    station.accounts.add("nha-so-5", "household-pass", "viewer")
    station.accounts.grant("nha-so-5", ["hem-4"])
    with serving(station) as base, chromium() as browser:
        page = browser.new_page(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True)
        log_in(page, base, "nha-so-5", "wrong-password")
        page.wait_for_selector("#login-error:not(:empty)")
        log_in(page, base, "nha-so-5", "household-pass")
        page.wait_for_function(PLAYING % 1, timeout=20_000)
        assert page.eval_on_selector_all(".tile", "tiles => tiles.map(t => t.dataset.camera)") == ["hem-4"]
        width = page.eval_on_selector(".tile", "tile => tile.getBoundingClientRect().width")
        assert width > 300, "one tile fills the phone's width"


def test_an_h265_camera_plays_live_in_chromium_and_says_it_is_transcoded(tmp_path: Path, make_station) -> None:
    with RtspServer(["cam0"], codec="h265", width=640, height=360) as server:
        config = station_config(tmp_path, [{"name": "hevc", "record_url": server.url("cam0")}])
        station, _client = make_station(config)
        wait_for(lambda: (report := station.report("hevc")) and report.record.codec == "hevc", 20, "the H.265 stream")
        with serving(station) as base, chromium() as browser:
            page = browser.new_page(viewport={"width": 1280, "height": 720})
            log_in(page, base, OPERATOR, OPERATOR_PASSWORD)
            page.wait_for_function(PLAYING % 1, timeout=20_000)
            before = page.evaluate(FRAMES)
            page.wait_for_function(f"() => ({FRAMES})().every((n, i) => n > {before}[i] + 10)", timeout=20_000)
            assert page.evaluate("() => document.querySelector('.tile video').videoWidth") == 640
            badge = page.locator('.tile[data-camera="hevc"] .transcoded')
            assert badge.get_attribute("data-transcoded-label") == "Đã chuyển mã H.265 → H.264"

            # recorded footage: the player's clip is H.264 and plays; the download stays the camera's H.265
            segment = wait_for(lambda: station.index.segments("hevc", 0, 2**62), 20, "footage")[0]
            window = f"start={segment.start_ms / 1000}&end={segment.end_ms / 1000}"
            played = page.evaluate("""async (url) => {
                const video = Object.assign(document.createElement("video"), {muted: true, src: url});
                document.body.append(video);
                await video.play();
                await new Promise((done) => setTimeout(done, 1500));
                return [video.videoWidth, video.currentTime];
            }""", f"/api/cameras/hevc/clip.mp4?{window}&purpose=playback")
            assert played[0] == 640 and played[1] > 0.5, played
            for purpose, codec in (("playback", "h264"), ("download", "hevc")):
                response = page.request.get(f"{base}/api/cameras/hevc/clip.mp4?{window}&purpose={purpose}")
                clip = tmp_path / f"{purpose}.mp4"
                clip.write_bytes(response.body())
                with av.open(str(clip)) as container:
                    assert container.streams.video[0].codec_context.name == codec
                    assert sum(1 for _ in container.decode(video=0)) >= 15


def test_the_generated_password_is_changed_on_the_first_login(tmp_path: Path, make_station,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("NVR_ADMIN_PASSWORD")
    station, _client = make_station(station_config(tmp_path, [], runtime={"recorder_processes": 1}))
    generated = (station.config.data_dir / PASSWORD_FILE).read_text().strip()
    with serving(station) as base, chromium() as browser:
        page = browser.new_page()
        for _ in range(5):
            log_in(page, base, "nobody", "not-the-password")
            page.wait_for_selector("#login-error:not(:empty)")
        log_in(page, base, "nobody", "not-the-password")
        page.wait_for_function("() => /thử lại sau \\d+ giây/.test(document.getElementById('login-error')?.innerText)")
        log_in(page, base, "admin", generated)
        page.wait_for_selector("#password-form")
        assert page.inner_text("#password-form h1") == "Đổi mật khẩu"
        assert page.is_hidden("#cameras-link")
        page.eval_on_selector("#password-form", "form => form.dataset.before = 'lang'")
        page.click("#lang")
        page.wait_for_selector("#password-form:not([data-before])")  # drawn again, in English
        assert page.inner_text("#password-form h1") == "Change your password"
        page.fill("input[name=password]", "a-new-admin-password")
        page.fill("input[name=again]", "a-new-admin-passwort")
        page.click("#password-form button[type=submit]")
        page.wait_for_selector("#password-error:not(:empty)")
        assert page.inner_text("#password-error") == "The two passwords differ"
        page.fill("input[name=again]", "a-new-admin-password")
        page.click("#password-form button[type=submit]")
        page.wait_for_selector("#grid")
        assert page.is_visible("#cameras-link") and page.inner_text("#who") == "admin (administrator)"
    assert station.accounts.verify("admin", "a-new-admin-password") is not None
