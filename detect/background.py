"""Whole-stack arithmetic of the background model: one OpenCV or NumPy call for all cameras of a tick.

The stack is (cameras, H, W) uint8 frames against float32 backgrounds (and their rounded copy). A gain
is the median brightness ratio frame/background: lights, exposure and clouds scale the picture, so
the background is scaled with them and they stop being differences, while objects stay differences.
"""

from __future__ import annotations

import cv2
import numpy as np

from detect.workspace import Workspace

BLACK = 16.0  # luma of black (BT.601 limited range); gain is applied around it
GAIN_STEP = 10  # gain is measured at every 10th pixel each way
GAIN_JUMP = 0.04  # a gain change bigger than this in one frame is a switch: ...
CLIPPED = (BLACK + 4, 228.0)  # ... where the scaled background falls outside these, it is taken from the frame
SQUARE = np.ones((3, 3), np.uint8)  # a pixel and its eight neighbours, for dilations


def gains(frames: np.ndarray, background: np.ndarray) -> np.ndarray:
    """Per camera, the median brightness ratio frame/background (around black) on a sparse grid."""
    half = GAIN_STEP // 2
    now = frames[:, half::GAIN_STEP, half::GAIN_STEP].reshape(len(frames), -1).astype(np.float32) - BLACK
    before = background[:, half::GAIN_STEP, half::GAIN_STEP].reshape(len(frames), -1) - BLACK
    usable = (before > 24) & (before < 215) & (now > 0) & (now < 219)  # neither dark nor clipped
    ratios = np.sort(np.where(usable, now / np.maximum(before, 1.0), np.inf), axis=1)  # unusable ones last
    found = usable.sum(axis=1)
    median = np.take_along_axis(ratios, (found // 2)[:, None], axis=1)[:, 0]
    result: np.ndarray = np.where(found >= max(8, usable.shape[1] // 8), median, 1.0)
    return result


def apply_gain(background: np.ndarray, frame: np.ndarray, gain: float) -> None:
    """Scale one camera's background like the frame was. After a jump, take the frame where the model says
    clipped and next to it: a work pixel there mixes clipped and unclipped parts of the picture (a wire
    or the camera's clock against a wall that burnt out) and follows neither."""
    np.multiply(background, gain, out=background)
    np.add(background, BLACK * (1.0 - gain), out=background)
    if abs(gain - 1.0) > GAIN_JUMP:
        clipped = ((background > CLIPPED[1]) | (background < CLIPPED[0])).view(np.uint8)
        np.copyto(background, frame, where=cv2.dilate(clipped, SQUARE).view(bool))


def count_per_camera(masks: np.ndarray, cameras: int) -> np.ndarray:
    """Non-zero pixels of each camera's rows of a 0/255 uint8 stack (any shape whose rows split evenly)."""
    sums = cv2.reduce(masks.reshape(cameras, -1), 1, cv2.REDUCE_SUM, dtype=cv2.CV_32S)[:, 0]
    counts: np.ndarray = sums // 255
    return counts


def neighbour_pairs(foreground: np.ndarray, space: Workspace) -> np.ndarray:
    """Per camera, the pairs of foreground pixels side by side or one above the other in a (cameras, H, W)
    0/255 stack (the masks on the way are arrays of `space`).

    Sensor and compression noise leaves lone pixels: enough of them to pass a plain count most frames in
    a quiet scene, never enough pairs. A blob of n pixels has about 2n of them.
    """
    cameras, height, width = foreground.shape
    rows = foreground.reshape(-1, width)
    across = cv2.bitwise_and(rows[:, 1:], rows[:, :-1], dst=space.array("pairs across", (len(rows), width - 1)))
    down = space.array("pairs down", (cameras, height - 1, width))
    np.bitwise_and(foreground[:, 1:], foreground[:, :-1], out=down)
    pairs: np.ndarray = count_per_camera(across, cameras) + count_per_camera(down, cameras)
    return pairs
