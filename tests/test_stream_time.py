"""Time and stream parameters on a real RTSP server: a camera's wrong clock is reported and not believed,
segment boundaries stay monotonic across reconnects, and a mid-stream resolution change is recorded and
clipped with the right parameters on both sides (design/time.md)."""

from __future__ import annotations

import io
import itertools
import time
from pathlib import Path
from typing import Any

import av
import pytest

from storage.index import Segment
from tests.conftest import station_config, wait_for
from tests.support.media import encode_size_change
from tests.support.rtsp import RtspServer
from tests.support.web import chromium

FRAME_MS = 1000 // 15 + 1  # one frame at 15 fps, rounded up
SKEW = 7.0


def measured_clock(client: Any, name: str) -> dict[str, Any] | None:
    """The camera as the API shows it, once its clock offset is known."""
    response = client.get(f"/api/cameras/{name}")
    assert response.status_code == 200
    shown: dict[str, Any] = response.json()
    return shown if shown["clock_offset_seconds"] is not None else None


def assert_monotonic(segments: list[Segment]) -> None:
    """Each segment starts no earlier than one frame before the previous one ends."""
    ordered = sorted(segments, key=lambda s: s.start_ms)
    for before, after in itertools.pairwise(ordered):
        assert after.start_ms >= before.end_ms - FRAME_MS, \
            f"{after.path} starts {before.end_ms - after.start_ms} ms before {before.path} ends"


def decoded_sizes(data: bytes | str) -> list[tuple[tuple[int, int], int]]:
    """(width, height) of the decoded pictures, run-length encoded."""
    with av.open(io.BytesIO(data) if isinstance(data, bytes) else data, "r") as container:
        sizes = [(frame.width, frame.height) for frame in container.decode(video=0)]
    return [(size, len(list(run))) for size, run in itertools.groupby(sizes)]


def test_a_camera_clock_seven_seconds_off_is_shown_and_not_believed(tmp_path: Path, make_station,
                                                                    cameras: RtspServer) -> None:
    with RtspServer(["skewed"], clock_offset=SKEW) as skewed:
        config = station_config(tmp_path, [{"name": "skewed", "record_url": skewed.url("skewed")},
                                           {"name": "right", "record_url": cameras.url("cam0")}])
        station, client = make_station(config)
        shown = wait_for(lambda: measured_clock(client, "skewed"), 30, "the camera's RTCP clock to be measured")
        right = wait_for(lambda: measured_clock(client, "right"), 30, "the other camera's clock")
        assert shown is not None and right is not None
        assert SKEW - 0.5 < shown["clock_offset_seconds"] < SKEW + 0.1  # minus the network delay
        assert shown["clock_beyond_tolerance"] is True
        assert abs(right["clock_offset_seconds"]) < 0.5 and right["clock_beyond_tolerance"] is False

        wait_for(lambda: len(station.index.segments("skewed", 0, 2**62)) >= 2, 30, "two segments")
        now_ms = time.time() * 1000
        latest = max(station.index.segments("skewed", 0, 2**62), key=lambda s: s.end_ms)
        # the policy: footage keeps the station's time; the camera's would put it 7 s in the future
        assert now_ms - 3000 < latest.end_ms <= now_ms + 500


def test_segment_boundaries_stay_monotonic_across_reconnects(tmp_path: Path, make_station) -> None:
    server = RtspServer(["cam0"])
    server.start()
    try:
        config = station_config(tmp_path, [{"name": "cam0", "record_url": server.url("cam0")}])
        station, _client = make_station(config)
        for cycle, end in enumerate((server.stop, server.kill, server.stop)):
            count = len(station.index.segments("cam0", 0, 2**62))
            wait_for(lambda: len(station.index.segments("cam0", 0, 2**62)) >= count + 2, 30,  # noqa: B023
                     f"two segments in connection {cycle}")
            end()
            restarted_ms = time.time() * 1000
            server.start()
            wait_for(lambda: any(s.start_ms >= restarted_ms  # noqa: B023
                                 for s in station.index.segments("cam0", 0, 2**62)), 30,
                     f"a segment after reconnect {cycle}")
            first = min((s for s in station.index.segments("cam0", 0, 2**62) if s.start_ms >= restarted_ms),
                        key=lambda s: s.start_ms)
            assert first.start_ms < restarted_ms + 3000, "the first picture after a reconnect is stamped on time"
        wait_for(lambda: station.index.segments("cam0", 0, 2**62)[-1].start_ms > restarted_ms + 2000, 30,
                 "a second segment after the last reconnect")
        segments = station.index.segments("cam0", 0, 2**62)
        assert len(segments) >= 9
        assert_monotonic(segments)
    finally:
        server.kill()


@pytest.fixture(scope="module")
def size_change(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """3 s at 320x240, then 3 s at 160x120, in one H.264 stream."""
    return encode_size_change(tmp_path_factory.mktemp("media") / "size-change.mp4")


def test_a_mid_stream_resolution_change_starts_a_segment_and_clips_across_it(
        tmp_path: Path, make_station, size_change: Path) -> None:
    with RtspServer([], files={"zoom": size_change}) as server:
        config = station_config(tmp_path, [{"name": "zoom", "record_url": server.url("zoom")}],
                                storage={"segment_seconds": 60})
        station, client = make_station(config)
        wait_for(lambda: len(station.index.segments("zoom", 0, 2**62)) >= 2, 30,
                 "the segments before and after the change")
        before, after = station.index.segments("zoom", 0, 2**62)[:2]
        for segment, size in ((before, (320, 240)), (after, (160, 120))):
            path = config.segments_dir / segment.path
            with av.open(str(path)) as container:
                header = container.streams.video[0].codec_context
                assert (header.width, header.height) == size, "the header carries the new parameters"
            runs = decoded_sizes(str(path))
            assert [run[0] for run in runs] == [size] and runs[0][1] >= 40, f"{segment.path}: {runs}"
        assert after.start_ms >= before.end_ms - FRAME_MS

        response = client.get("/api/cameras/zoom/clip.mp4",
                              params={"start": before.start_ms / 1000, "end": after.end_ms / 1000})
        assert response.status_code == 200
        runs = decoded_sizes(response.content)
        assert [run[0] for run in runs] == [(320, 240), (160, 120)], runs
        assert min(count for _, count in runs) >= 40, "both sides decode whole"
        assert played_widths(response.content) == [320, 160], "Chromium plays it to the end, at both sizes"


def test_a_file_camera_s_resolution_change_is_recorded_with_its_pictures(tmp_path: Path, make_station,
                                                                         size_change: Path) -> None:
    """The same change from an MP4 file (length-prefixed H.264): the segment after it has its pictures. Its
    header said Annex B and the muxer found none in the packets: a segment of a few hundred bytes, indexed whole."""
    config = station_config(tmp_path, [{"name": "zoom", "record_url": size_change.as_uri()}],
                            storage={"segment_seconds": 60})
    station, _client = make_station(config)
    wait_for(lambda: len(station.index.segments("zoom", 0, 2**62)) >= 2, 30, "the segments before and after")
    before, after = station.index.segments("zoom", 0, 2**62)[:2]
    for segment, size in ((before, (320, 240)), (after, (160, 120))):
        runs = decoded_sizes(str(config.segments_dir / segment.path))
        assert [run[0] for run in runs] == [size] and runs[0][1] >= 40, f"{segment.path}: {runs}"


def played_widths(clip: bytes) -> list[int]:
    """The picture widths Debian's Chromium shows while it plays `clip` to its end (it fails on an error)."""
    with chromium() as browser:
        page = browser.new_page()
        page.route("http://clip.test/clip.mp4", lambda route: route.fulfill(body=clip, content_type="video/mp4"))
        page.route("http://clip.test/", lambda route: route.fulfill(body="<video muted playsinline></video>",
                                                                  content_type="text/html"))
        page.goto("http://clip.test/")
        return page.evaluate("""() => new Promise((done, fail) => {
            const video = document.querySelector("video"), widths = [];
            video.addEventListener("resize", () => widths.push(video.videoWidth));
            video.addEventListener("ended", () => done(widths));
            video.addEventListener("error", () => fail(new Error(`media error ${video.error.code}`)));
            video.src = "http://clip.test/clip.mp4";
            video.playbackRate = 4;
            video.play();
        })""")
