"""Which decoded frames detection analyses: about the tuned rate of a faster camera, every frame of a slower one."""

from __future__ import annotations

from itertools import pairwise

import numpy as np
import pytest

from detect.settings import TUNED_FPS, CameraDetectSettings
from ingest.frame_picker import FramePicker
from nvr.config import CameraDetectConfig


def picked(times: list[float], max_fps: float) -> list[float]:
    picker = FramePicker(max_fps)
    return [t for t in times if picker.take(t)]


def at(fps: float, seconds: float = 20.0, start: float = 0.0) -> list[float]:
    return [start + i / fps for i in range(round(seconds * fps))]


@pytest.mark.parametrize(("camera_fps", "analysed"), [(30, 15), (25, 15), (20, 15), (60, 15), (50, 15), (15, 15),
                                                      (12.5, 12.5), (10, 10), (5, 5)])
def test_a_faster_camera_is_analysed_at_the_tuned_rate_a_slower_one_at_every_frame(camera_fps: float,
                                                                                 analysed: float) -> None:
    times = at(camera_fps)
    assert len(picked(times, TUNED_FPS)) == pytest.approx(analysed * 20, abs=1)


def test_frames_are_picked_as_evenly_as_the_camera_allows() -> None:
    gaps = [round(b - a, 3) for a, b in pairwise(picked(at(30), 15))]
    assert set(gaps) == {0.067}  # every other frame
    gaps = [round(b - a, 3) for a, b in pairwise(picked(at(25), 15))]
    assert set(gaps) == {0.04, 0.08}  # three of every five, never two missed in a row (that would be 12.5 fps)


def test_jittering_frame_times_lose_no_frame_of_a_camera_at_the_rate() -> None:
    rng = np.random.default_rng(1)
    times = [t + float(rng.uniform(-0.02, 0.02)) for t in at(15)]
    assert len(picked(times, 15)) == len(times)


def test_a_lower_cap_halves_a_camera_at_the_rate() -> None:
    assert len(picked(at(15), 7.5)) == 150


def test_after_a_stall_or_a_clock_jump_back_the_next_frame_is_taken_and_the_rate_kept() -> None:
    times = at(30, 10) + at(30, 10, start=20.0) + at(30, 10, start=5.0)  # a 10 s stall, then camera time back 25 s
    kept = picked(times, 15)
    assert 20.0 in kept and 5.0 in kept
    assert len(kept) == pytest.approx(450, abs=3)


def test_times_stepping_back_a_little_are_jitter_not_a_new_start() -> None:
    times = at(30)
    times[4::5] = [t - 0.035 for t in times[4::5]]  # every 5th frame stamped 1 ms before the one before it
    assert len(picked(times, 15)) <= 15 * 20 + 1


def test_a_rate_must_be_positive() -> None:
    with pytest.raises(ValueError, match="positive"):
        FramePicker(0)


def test_max_fps_unset_is_the_tuned_rate_and_a_set_one_is_kept() -> None:
    assert CameraDetectSettings().analysed_fps == TUNED_FPS == 15
    assert CameraDetectConfig(max_fps=30).settings().analysed_fps == 30
    assert CameraDetectConfig(max_fps=7.5).settings().analysed_fps == 7.5
