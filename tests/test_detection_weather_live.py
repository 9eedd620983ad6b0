"""What detection works in, live: a camera in rain at night and one on a shaking pole, served by the real RTSP server,
are shown as such in the API, the metrics and on the station screen; a quiet camera is neither."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import pytest

from ingest.demo import encode
from scripts.make_detect_corpus import encode_clip, rain_infrared, shake
from tests.conftest import OPERATOR, OPERATOR_PASSWORD, station_config, wait_for
from tests.support.media import quiet_scene
from tests.support.rtsp import RtspServer
from tests.support.web import chromium, log_in, serving
from tests.test_metrics import KEY, Samples, scrape, value

SECONDS = 40  # the test is done long before a file ends (people come after 15 s of the weather alone)
SUB_STREAM_BIT_RATE = 512_000


@pytest.fixture(scope="module")
def weather_cameras(tmp_path_factory: pytest.TempPathFactory):
    folder = tmp_path_factory.mktemp("weather")
    files = {name: folder / f"{name}.mp4" for name in ("mua", "rung", "yen-tinh")}
    for name, clip in (("mua", next(c for c in rain_infrared() if c.name == "rain-ir-crossroad")),
                       ("rung", next(c for c in shake() if c.name == "shake-1-crossroad"))):
        encode_clip(clip, files[name], SUB_STREAM_BIT_RATE, count=SECONDS * clip.spec.fps)  # as a camera's sub stream
    encode(quiet_scene(seconds=SECONDS), files["yen-tinh"])
    with RtspServer([], files=files) as server:
        yield server


def test_rain_and_a_shaking_pole_are_shown_in_the_api_the_metrics_and_on_the_tiles(
        weather_cameras: RtspServer, tmp_path: Path, make_station) -> None:
    config = station_config(tmp_path, [{"name": name, "record_url": weather_cameras.url(name)}
                                       for name in ("mua", "rung", "yen-tinh")], metrics={"key": KEY})
    station, client = make_station(config)

    def cameras() -> dict[str, dict[str, Any]]:
        return {camera["name"]: camera for camera in client.get("/api/cameras").json()}

    rainy = wait_for(lambda: (found := cameras())["mua"]["raining"] and found, 30, "rain on one camera")
    assert rainy["mua"]["mode"] == "ir" and rainy["rung"]["raining"] is False
    assert rainy["yen-tinh"]["raining"] is False and rainy["yen-tinh"]["shaking"] is False
    wait_for(lambda: cameras()["rung"]["shaking"], 30, "shaking on another")  # it comes and goes with the jitter

    def raining_gauge() -> Samples:
        samples = scrape(client, KEY)
        return samples if value(samples, "nvr_camera_detection_raining", camera="mua") == 1 else {}

    samples = wait_for(raining_gauge, 10, "the raining gauge")
    assert value(samples, "nvr_camera_detection_raining", camera="yen-tinh") == 0
    assert value(samples, "nvr_camera_detection_shaking", camera="yen-tinh") == 0
    assert not math.isnan(value(samples, "nvr_camera_detection_shaking", camera="rung"))

    with serving(station) as base, chromium() as browser:
        page = browser.new_page(viewport={"width": 1920, "height": 1080})
        log_in(page, base, OPERATOR, OPERATOR_PASSWORD)
        page.wait_for_selector('.tile[data-camera="mua"] .badge.weather:text-is("Mưa")', timeout=20_000)
        page.wait_for_selector('.tile[data-camera="rung"] .badge.weather:text-is("Rung lắc")', timeout=20_000)
        assert page.locator('.tile[data-camera="yen-tinh"] .badge.weather').count() == 0
