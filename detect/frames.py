"""From a decoded picture to what the bank works on: a small luma image and a grid of chroma samples.

Measured on the 2-core build machine (640x360 luma to 160x90): two 2x INTER_AREA halvings 13-26 µs (an
exact 4x4 box average: sensor noise / 4), INTER_AREA in one step 80 µs, INTER_LINEAR 15 µs (only 2x2
of each 4x4 block: noise / 2), pyrDown twice 30-50 µs. Sampling chroma onto a fixed grid costs 2 µs;
telling colour from infrared is then done for all cameras at once (`colourfulness`).
"""

from __future__ import annotations

import cv2
import numpy as np

IR_COLOURFULNESS = 1.5  # mean |U-128|+|V-128| below this: a monochrome picture (IR night mode)
CHROMA_GRID = (8, 16)  # rows, columns of chroma samples kept per frame
_DEVIATION = np.abs(np.arange(256) - 128).astype(np.uint8)


def reduce_luma(y: np.ndarray, size: tuple[int, int], out: np.ndarray | None = None) -> np.ndarray:
    """`y` box-averaged to `size` (width, height), into `out` (a C-contiguous uint8 array of that size,
    such as a shared-memory slot) or a new array; returns it.

    Halves with INTER_AREA while the picture is at least twice the work size, then resizes the rest
    of the way.
    """
    width, height = size
    level = y
    while level.shape[1] >= 2 * width and level.shape[0] >= 2 * height:
        half = (level.shape[1] // 2, level.shape[0] // 2)
        level = cv2.resize(level, half, dst=out if half == size else None, interpolation=cv2.INTER_AREA)
    if level.shape[:2] != (height, width):
        shrink = level.shape[1] > width
        level = cv2.resize(level, size, dst=out, interpolation=cv2.INTER_AREA if shrink else cv2.INTER_LINEAR)
    if out is None:
        return y.copy() if level is y else level
    if level is not out:
        out[...] = level
    return out


def sample_chroma(chroma: tuple[np.ndarray, np.ndarray], out: np.ndarray) -> None:
    """Write a CHROMA_GRID of U and V samples into `out` (2, rows, columns)."""
    rows, cols = CHROMA_GRID
    u, v = chroma
    height, width = u.shape
    if height >= rows and width >= cols:  # every frame: one strided copy per plane
        down, across = height // rows, width // cols
        out[0] = u[:down * rows:down, :across * cols:across]
        out[1] = v[:down * rows:down, :across * cols:across]
    else:
        for plane, target in zip(chroma, out, strict=True):
            target[...] = cv2.resize(np.ascontiguousarray(plane), (cols, rows), interpolation=cv2.INTER_NEAREST)


def colourfulness(samples: np.ndarray) -> np.ndarray:
    """Per camera, mean |U-128| + |V-128| of (N, 2, rows, columns) samples: about 0 in infrared."""
    deviations = _DEVIATION[samples].reshape(len(samples), -1)
    colour: np.ndarray = deviations.sum(axis=1, dtype=np.int32) * (2.0 / deviations.shape[1])
    return colour
