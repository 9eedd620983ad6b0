"""End to end on a real GStreamer RTSP server: record, index, list and cut clips through the API."""

from __future__ import annotations

import io
import subprocess
import sys
from itertools import pairwise
from pathlib import Path

import av
import yaml

from nvr.config import load_config
from nvr.times import format_instant
from tests.conftest import station_config, wait_for
from tests.support.rtsp import RtspServer

FPS, GOP = 15, 15  # one keyframe a second


def decode_times(data: bytes) -> list[float]:
    with av.open(io.BytesIO(data), "r") as container:
        stream = container.streams.video[0]
        time_base = stream.time_base
        assert time_base is not None
        return [float(frame.pts * time_base) for frame in container.decode(stream) if frame.pts is not None]


def test_two_cameras_recorded_and_clip_spans_segment_boundaries(cameras: RtspServer, tmp_path: Path,
                                                                 make_station) -> None:
    config = station_config(tmp_path, [{"name": "cam0", "record_url": cameras.url("cam0")},
                                       {"name": "cam1", "record_url": cameras.url("cam1")}])
    station, client = make_station(config)
    for name in ("cam0", "cam1"):
        wait_for(lambda n=name: len(station.index.segments(n, 0, 2**62)) >= 4, 30, f"4 segments of {name}")
    listed = {c["name"]: c for c in client.get("/api/cameras").json()}
    assert listed["cam0"]["status"] == "online" and listed["cam0"]["codec"] == "h264"
    assert listed["cam0"]["fps"] > 5

    segments = station.index.segments("cam0", 0, 2**62)
    for segment in segments:
        with av.open(str(config.segments_dir / segment.path)) as container:
            assert container.streams.video[0].codec_context.name == "h264"
            assert sum(1 for _ in container.demux(video=0)) > 1
    start_ms = segments[0].start_ms + 500
    end_ms = segments[3].start_ms + 500  # crosses the boundaries into segments 1, 2 and 3
    response = client.get("/api/cameras/cam0/clip.mp4", params={"start": start_ms / 1000, "end": end_ms / 1000})
    assert response.status_code == 200 and response.headers["content-type"] == "video/mp4"
    times = decode_times(response.content)
    assert all(b > a for a, b in pairwise(times)), "timestamps must increase"
    duration = times[-1] - times[0] + 1 / FPS
    requested = (end_ms - start_ms) / 1000
    assert requested - 0.2 <= duration <= requested + GOP / FPS + 0.2

    ranges = client.get("/api/cameras/cam1/recordings").json()["ranges"]
    assert len(ranges) == 1, "continuous recording is one range"


def test_clip_and_recordings_reject_bad_requests(cameras: RtspServer, tmp_path: Path, make_station) -> None:
    config = station_config(tmp_path, [{"name": "cam0", "record_url": cameras.url("cam0")}])
    station, client = make_station(config)
    wait_for(lambda: station.index.segments("cam0", 0, 2**62), 20, "a segment")
    cases = [
        ("/api/cameras/nope/clip.mp4?start=0&end=10", 404, "no camera named 'nope'"),
        ("/api/cameras/cam0/clip.mp4?start=yesterday&end=10", 400, "is not a time"),
        ("/api/cameras/cam0/clip.mp4?start=20&end=10", 400, "end must be after start"),
        ("/api/cameras/cam0/clip.mp4?start=0&end=200000", 400, "longer than the limit"),
        ("/api/cameras/cam0/clip.mp4?start=1000&end=2000", 404, "no footage"),
        ("/api/cameras/cam0/recordings?start=2026-02-30T00:00:00", 400, "is not a time"),
        ("/api/cameras/cam0/recordings?start=9000-01-01T00:00:00", 400, "without `end` the window ends now"),
        ("/api/cameras/nope/recordings", 404, "no camera named"),
        ("/api/cameras/nope", 404, "no camera named"),
    ]
    for url, status, message in cases:
        response = client.get(url)
        assert response.status_code == status, url
        assert message in response.json()["detail"], url
    missing = client.get("/api/cameras/cam0/clip.mp4?start=1")
    assert missing.status_code == 422
    assert client.get("/api/health").json()["status"] == "ok"


def test_clip_command_writes_the_same_clip_with_progress(cameras: RtspServer, tmp_path: Path, make_station) -> None:
    config_path = tmp_path / "config.yaml"
    config_path.write_text(yaml.safe_dump({
        "data_dir": "data", "storage": {"segment_seconds": 2, "min_free_bytes": 0},
        "cameras": [{"name": "cam0", "record_url": cameras.url("cam0")}]}))
    config = load_config(config_path)
    station, _client = make_station(config)
    wait_for(lambda: len(station.index.segments("cam0", 0, 2**62)) >= 3, 30, "three segments")
    segments = station.index.segments("cam0", 0, 2**62)
    start = format_instant(segments[0].start_ms + 1000, config.zone)[:23]  # local time, no offset
    end_ms = segments[2].end_ms - 200

    def nvr(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "nvr", "--config", str(config_path), *args],
                              capture_output=True, text=True, timeout=60, check=False)

    out = tmp_path / "clip.mp4"
    result = nvr("clip", "cam0", start, str(end_ms / 1000), "-o", str(out))
    assert result.returncode == 0, result.stderr
    assert "100%" in result.stderr
    times = decode_times(out.read_bytes())
    requested = (end_ms - segments[0].start_ms - 1000) / 1000
    assert requested - 0.2 <= times[-1] - times[0] + 1 / FPS <= requested + GOP / FPS + 0.2
    assert nvr("clip", "nope", "0", "10", "-o", str(out)).returncode == 2
    none = nvr("clip", "cam0", "1000", "2000", "-o", str(tmp_path / "none.mp4"))
    assert none.returncode == 1 and "no footage" in none.stderr
