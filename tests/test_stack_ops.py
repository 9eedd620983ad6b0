"""Each camera of a bank is detected as if it were alone (detect/stack_ops.py): its neighbours in the stack change
nothing it reports."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import replace

import cv2
import numpy as np
import pytest

from detect.background import SQUARE
from detect.bank import DetectorBank
from detect.regions import ADJACENT, CROSS
from detect.settings import CameraDetectSettings
from detect.stack_ops import dilated, eroded, opened
from detect.variability import AROUND
from scripts.corpus_cache import WorkFrame
from scripts.make_detect_corpus import Clip, Played, play, rain_day, shake, work_frames

HEIGHT, WIDTH, CAMERAS = 7, 11, 4
KERNELS = {"square": SQUARE, "cross": CROSS, "adjacent": ADJACENT, "5x5": AROUND,
           "cross of 2": cv2.getStructuringElement(cv2.MORPH_CROSS, (5, 5))}


def one_by_one(operation: int, stack: np.ndarray, kernel: np.ndarray) -> np.ndarray:
    """The OpenCV pass on each camera's picture alone, the pictures then laid end to end again."""
    pictures = stack.reshape(CAMERAS, HEIGHT, WIDTH)
    return np.concatenate([cv2.morphologyEx(picture, operation, kernel) for picture in pictures])


PASSES: dict[str, tuple[Callable[..., np.ndarray], int]] = {
    "dilated": (dilated, cv2.MORPH_DILATE), "eroded": (eroded, cv2.MORPH_ERODE), "opened": (opened, cv2.MORPH_OPEN)}


@pytest.mark.parametrize("kernel", KERNELS.values(), ids=KERNELS.keys())
@pytest.mark.parametrize("name", PASSES)
def test_a_pass_over_the_stack_is_each_cameras_pass_alone(name: str, kernel: np.ndarray) -> None:
    stack = np.random.default_rng(5).integers(0, 256, (CAMERAS * HEIGHT, WIDTH), dtype=np.uint8)
    function, operation = PASSES[name]
    expected = one_by_one(operation, stack, kernel)
    assert (function(stack, kernel, HEIGHT) == expected).all()
    assert not (cv2.morphologyEx(stack, operation, kernel) == expected).all()  # the plain pass is not
    in_place = stack.copy()
    assert function(in_place, kernel, HEIGHT, dst=in_place) is in_place
    assert (in_place == expected).all()


@pytest.mark.parametrize("name", PASSES)
def test_a_kernel_reaching_over_half_a_picture_is_passed_camera_by_camera(name: str) -> None:
    """The lasting foreground of a camera back after a stall is dilated by a cross as long as its frames were apart
    (`regions.frame_steps`): frames 3 s apart make a cross reaching 46 pixels, over half of a 90-row picture."""
    stack = np.random.default_rng(6).integers(0, 256, (CAMERAS * HEIGHT, WIDTH), dtype=np.uint8)
    kernel = cv2.getStructuringElement(cv2.MORPH_CROSS, (2 * HEIGHT - 1, 2 * HEIGHT - 1))
    function, operation = PASSES[name]
    expected = one_by_one(operation, stack, kernel)
    assert (function(stack, kernel, HEIGHT) == expected).all()
    assert (function(stack.copy(), kernel, HEIGHT, dst=stack) == expected).all()


def test_a_bank_takes_cameras_back_after_a_long_stall() -> None:
    bank = DetectorBank()
    for name in ("a", "b"):
        bank.add_camera(name, CameraDetectSettings())
    rng = np.random.default_rng(0)
    for t in [i / 15 for i in range(60)] + [44 + i / 15 for i in range(5)]:  # 40 s without a frame, both at once
        for name in ("a", "b"):
            bank.submit(name, rng.integers(90, 110, (90, 160), dtype=np.uint8), None, t)
        assert len(bank.tick(t)) == 2


def short(clips: list[Clip], seconds: float) -> list[Clip]:
    return [replace(clip, spec=replace(clip.spec, seconds=seconds)) for clip in clips]


def reported(played: Played) -> dict[float, object]:
    return {t: (obs.boxes, obs.score, obs.raining, obs.shaking) for t, obs in played.motion.items()}


def test_a_camera_reports_the_same_beside_others_as_alone() -> None:
    """Rain by day (streaks and splashes to the pictures' edges, people coming in at the bottom) and a jittering
    pole, played as cameras of one bank and each in a bank of its own: every motion observation the same. Before
    the passes kept to each camera, the rain clips differed (a person found at the bottom edge only beside the
    others)."""
    clips = short(rain_day(), 34.0) + short(shake()[1:2], 20.0)
    frames: dict[str, Iterable[WorkFrame]] = {name: list(work) for name, work in work_frames(clips).items()}
    together = {played.clip.name: reported(played) for played in play(clips, frames)}
    for clip in clips:
        [alone] = play([clip], {clip.name: frames[clip.name]})
        assert reported(alone) == together[clip.name], clip.name
    assert all(together.values())  # each saw motion
