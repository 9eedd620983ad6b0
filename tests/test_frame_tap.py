"""Decoding for detection: plane views equal to the decoded picture, frame rates, keyframe-only mode."""

from __future__ import annotations

import threading
from itertools import pairwise
from pathlib import Path

import av
import numpy as np
import pytest

from detect.settings import CameraDetectSettings
from ingest.clock import ReceiveClock
from ingest.frame_tap import FrameTap
from ingest.source import SourceOptions, open_source
from tests.support.media import encode_video


@pytest.fixture(scope="module")
def four_seconds(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return encode_video(tmp_path_factory.mktemp("media") / "four-seconds.mp4", seconds=4, size="200x120")


def tap_all(path: Path, **options) -> list[tuple[np.ndarray, tuple[np.ndarray, np.ndarray], float, av.VideoFrame]]:
    source = open_source(f"file://{path}", SourceOptions(realtime=False, loop=False))
    seen = []
    tap = FrameTap(lambda y, chroma, t, frame: seen.append((y.copy(), chroma, t, frame)), **options)
    tap.start(source.stream)
    clock = ReceiveClock(live=False)
    try:
        for packet in source.packets(threading.Event(), 10):
            assert packet.dts is not None
            tap.packet(packet, clock.stamp(float(packet.dts * packet.time_base), keyframe=packet.is_keyframe))
    finally:
        source.close()
    return seen


def test_planes_are_the_decoded_picture(four_seconds: Path) -> None:
    frames = tap_all(four_seconds)
    assert len(frames) == 60
    y, (u, _v), _t, frame = frames[10]
    assert y.shape == (120, 200) and u.shape == (15, 25)
    assert np.array_equal(y, frame.to_ndarray()[:120])  # yuv420p as an array: the Y rows come first
    assert abs(float(u.astype(int).mean()) - 128) > 2  # a colour picture has chroma


def test_a_30_fps_camera_gives_detection_15_frames_a_second_unless_told_otherwise(tmp_path: Path) -> None:
    fast = encode_video(tmp_path / "thirty.mp4", seconds=4, size="200x120", fps=30, gop=30)
    default = tap_all(fast, max_fps=CameraDetectSettings().analysed_fps)
    assert len(default) == 60
    assert {round(b - a, 3) for a, b in pairwise(t for _y, _c, t, _f in default)} == {0.067}
    assert len(tap_all(fast, max_fps=CameraDetectSettings(max_fps=30).analysed_fps)) == 120


def test_frame_rate_cap_and_keyframes_only(four_seconds: Path) -> None:
    capped = tap_all(four_seconds, max_fps=5)
    assert len(capped) == 20
    times = [t for _y, _c, t, _f in capped]
    assert min(b - a for a, b in pairwise(times)) >= 0.18
    keyframes = tap_all(four_seconds, keyframes_only=True)
    assert len(keyframes) == 4 and all(f.key_frame for *_rest, f in keyframes)
