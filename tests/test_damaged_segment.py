"""One damaged segment file amid recorded footage (emptied by a full disk, or cut short): what the station makes
of the footage around it. A station records a live RTSP camera in 2-second segments; of its first five, the
second is emptied and the fourth cut to 200 bytes."""

from __future__ import annotations

import io
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import av
import pytest
import yaml

from api.routes_recordings import CLIP_START_HEADER
from storage.clip_transcode import write_transcoded_clip
from storage.clips import plan_clip
from storage.index import Segment
from tests.conftest import start_station, station_config, wait_for
from tests.support.rtsp import RtspServer

DAMAGED = (1, 3)  # of the five segments: emptied, cut short
PICTURES_PER_SEGMENT = 20  # at least, of the 30 a 2-second segment of the 15 fps camera holds


@dataclass(frozen=True)
class Damaged:
    station: Any
    client: Any
    folder: Path
    segments: list[Segment]  # the first five closed ones: [1] emptied, [3] cut short

    @property
    def window(self) -> tuple[float, float]:
        """From the first of the five to the end of the last, in Unix seconds."""
        return self.segments[0].start_ms / 1000, self.segments[-1].end_ms / 1000

    def assert_the_clip_holds_the_intact_footage(self, clip: bytes, first_ms: int) -> None:
        """The clip (its time zero at wall time `first_ms`) has the pictures of every intact segment, and a gap
        where the damaged ones were."""
        with av.open(io.BytesIO(clip), "r") as container:
            video = container.streams.video[0]
            assert video.time_base is not None
            shown = [first_ms + float(f.pts * video.time_base) * 1000 for f in container.decode(video)
                     if f.pts is not None]
        for number, segment in enumerate(self.segments):
            inside = [t for t in shown if segment.start_ms + 100 <= t < segment.end_ms - 100]
            if number in DAMAGED:
                assert not inside, f"pictures where segment {number} was damaged"
            else:
                assert len(inside) >= PICTURES_PER_SEGMENT, f"segment {number}: {len(inside)} pictures"


@pytest.fixture(scope="module")
def damaged(cameras: RtspServer, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Damaged]:
    folder = tmp_path_factory.mktemp("damaged")
    config = station_config(folder, [{"name": "cam0", "record_url": cameras.url("cam0"), "detect": {"enabled": False}}])
    started: list[Any] = []
    station, client = start_station(config, started)
    try:
        found = wait_for(lambda: (s := station.index.segments("cam0", 0, 2**62))[4:] and s[:5], 40, "five segments")
        (station.segments_dir / found[1].path).write_bytes(b"")
        cut = station.segments_dir / found[3].path
        cut.write_bytes(cut.read_bytes()[:200])
        yield Damaged(station, client, folder, found)
    finally:
        for station in started:
            station.stop()


def test_an_export_over_a_damaged_segment_is_refused_as_changed_since_recorded(damaged: Damaged) -> None:
    start, end = damaged.window
    made = damaged.client.post("/api/cases", json={"title": "Đoạn hỏng", "items": [
        {"camera": "cam0", "start": start, "end": end}]})
    assert made.status_code == 201, made.text
    case_id = made.json()["id"]
    refused = wait_for(lambda: (r := damaged.client.get(f"/api/cases/{case_id}/export.zip")).status_code != 202 and r,
                       60, "the export to be built or refused")
    assert refused.status_code == 409, refused.text
    assert f"segment {damaged.segments[1].path} changed since it was recorded" in refused.json()["detail"]


def test_a_clip_over_a_damaged_segment_carries_the_footage_around_it(damaged: Damaged, tmp_path: Path) -> None:
    start, end = damaged.window
    clip = damaged.client.get("/api/cameras/cam0/clip.mp4", params={"start": start, "end": end})
    assert clip.status_code == 200
    damaged.assert_the_clip_holds_the_intact_footage(clip.content, int(clip.headers[CLIP_START_HEADER]))
    # the player's clip of a camera browsers cannot play (H.265), encoded again: the same footage
    plan = plan_clip(damaged.segments, round(start * 1000), round(end * 1000))
    assert plan is not None
    write_transcoded_clip(plan, damaged.station.segments_dir, str(tmp_path / "played.mp4"))
    damaged.assert_the_clip_holds_the_intact_footage((tmp_path / "played.mp4").read_bytes(), plan.first_ms)


def test_nvr_clip_over_a_damaged_segment_writes_the_footage_around_it(damaged: Damaged, tmp_path: Path) -> None:
    config = tmp_path / "config.yaml"
    config.write_text(yaml.safe_dump({"data_dir": str(damaged.station.config.data_dir),
                                      "cameras": [{"name": "cam0", "record_url": "demo://alley"}]}))
    start, end = damaged.window
    out = tmp_path / "clip.mp4"
    result = subprocess.run([sys.executable, "-m", "nvr", "--config", str(config), "clip", "cam0", str(start),
                             str(end), "-o", str(out)], capture_output=True, text=True, timeout=60, check=False)
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr and "cannot write" not in result.stderr
    assert damaged.segments[3].path in result.stderr, "the damaged segments are named"
    plan = plan_clip(damaged.segments, round(start * 1000), round(end * 1000))
    assert plan is not None
    damaged.assert_the_clip_holds_the_intact_footage(out.read_bytes(), plan.first_ms)


def test_a_thumbnail_in_a_damaged_segment_is_no_footage(damaged: Damaged) -> None:
    for number in DAMAGED:
        at = (damaged.segments[number].start_ms + 500) / 1000
        answer = damaged.client.get("/api/cameras/cam0/thumbnail.jpg", params={"at": at})
        assert answer.status_code == 404, f"segment {number}: {answer.status_code}"
        assert answer.json()["detail"] == "no footage of this camera at this time"
    intact = damaged.client.get("/api/cameras/cam0/thumbnail.jpg", params={"at": damaged.segments[2].start_ms / 1000})
    assert intact.status_code == 200 and intact.headers["content-type"] == "image/jpeg"
