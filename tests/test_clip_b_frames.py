"""A camera whose H.264 has B-frames: its keyframes are decoded before they are shown, and a clip must still start
at the keyframe at or before the time asked for."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import av

from tests.conftest import station_config, wait_for
from tests.support.media import encode_video

FPS, GOP = 15, 30  # a keyframe every 2 s


def test_a_clip_of_a_camera_sending_b_frames_starts_at_its_keyframe(tmp_path: Path, make_station: Any) -> None:
    """The keyframe's decode time is before its display time, by which the index knows it: the clip dropped it, and
    every picture up to the next keyframe with it (up to a keyframe interval of evidence), while its header and an
    export's manifest said the clip began at the dropped keyframe."""
    source = encode_video(tmp_path / "b-frames.mp4", seconds=30, size="320x240", fps=FPS, gop=GOP, b_frames=3)
    config = station_config(tmp_path, [{"name": "cam0", "record_url": f"file://{source}"}],
                            storage={"segment_seconds": 6})
    station, client = make_station(config)
    wait_for(lambda: len(station.index.segments("cam0", 0, 2**62)) >= 2, 40, "two segments")
    segment = station.index.segments("cam0", 0, 2**62)[0]
    assert len(segment.keyframes_ms) >= 2, segment
    keyframe_ms = segment.start_ms + segment.keyframes_ms[1]
    for start_ms in (keyframe_ms, keyframe_ms + 700):
        response = client.get("/api/cameras/cam0/clip.mp4",
                              params={"start": start_ms / 1000, "end": (keyframe_ms + 3000) / 1000})
        assert response.status_code == 200, response.text
        assert abs(int(response.headers["X-Clip-Start-Ms"]) - keyframe_ms) <= 1
        with av.open(io.BytesIO(response.content), "r") as clip:
            stream = clip.streams.video[0]
            first = next(clip.demux(stream))
            assert first.is_keyframe, "the clip begins with its keyframe"
            clip.seek(0)
            shown = [float(frame.time) for frame in clip.decode(stream) if frame.time is not None]
        # the keyframe is the first picture; an MP4's times start at 0 with the first decoded, so it is shown as
        # many frames later as the camera holds it back (2 here)
        assert shown[0] <= 3 / FPS, shown[:3]
        assert len(shown) >= 3 * FPS - 2, f"{len(shown)} pictures for the 3 s from the keyframe"
