"""Neighbourhood passes (erosion, dilation, opening) over the bank's stacks, each camera as if it were alone.

The bank lays its cameras' pictures end to end, one tall picture, so that a pass costs one OpenCV call for all of
them. A neighbourhood pass then lets a camera's first and last rows see the rows of the camera before and after
it: which cameras share a bank, and in which order, changed what each one detected at its top and bottom edges (on
the corpus, 2026-11-30: a person coming in at the bottom of one rain clip found only beside the other two, and 0.93
s held instead of 0.07 in snow). Here the pass runs over the whole stack, and then each camera's first and last
rows within the kernel's reach are done again from bands of its own rows bordered by the pass's neutral value (what
OpenCV puts beyond a picture's edge): one more call on a few rows per camera, and the results are the same as for
the camera alone, bit for bit.
"""

from __future__ import annotations

from collections.abc import Callable

import cv2
import numpy as np

_Pass = Callable[..., np.ndarray]


def dilated(source: np.ndarray, kernel: np.ndarray, height: int, dst: np.ndarray | None = None) -> np.ndarray:
    """`cv2.dilate` of a (cameras x `height`, W) uint8 stack, into `dst` if given; returns it."""
    return _per_camera(cv2.dilate, source, kernel, height, 0, dst)


def eroded(source: np.ndarray, kernel: np.ndarray, height: int, dst: np.ndarray | None = None) -> np.ndarray:
    """`cv2.erode` of a (cameras x `height`, W) uint8 stack, into `dst` if given; returns it."""
    return _per_camera(cv2.erode, source, kernel, height, 255, dst)


def opened(source: np.ndarray, kernel: np.ndarray, height: int, dst: np.ndarray | None = None) -> np.ndarray:
    """A grey-level opening (`cv2.MORPH_OPEN`: erosion, then dilation) of a (cameras x `height`, W) uint8 stack, into
    `dst` if given (which may be `source`); returns it."""
    return dilated(eroded(source, kernel, height, dst), kernel, height, dst)


def _per_camera(operation: _Pass, source: np.ndarray, kernel: np.ndarray, height: int, neutral: int,
                dst: np.ndarray | None) -> np.ndarray:
    rows, width = source.shape
    assert source.dtype == np.uint8 and rows % height == 0, "a uint8 stack of whole pictures"
    count, reach = rows // height, kernel.shape[0] // 2
    if count == 1 or reach == 0:
        result: np.ndarray = operation(source, kernel, dst=dst)
        return result
    if 2 * reach > height:  # a kernel reaching over half a picture (a camera back after a long stall): one by one
        result = np.empty_like(source) if dst is None else dst
        alone = [operation(picture, kernel) for picture in source.reshape(count, height, width)]
        result.reshape(count, height, width)[...] = alone
        return result
    pictures = source.reshape(count, height, width)
    # per camera, its top rows below `reach` neutral rows and its bottom rows above as many: the rows redone see
    # nothing beyond their own band (a band is 3 x reach rows; a kept row's window spans all of it at most)
    bands = np.full((count, 2, 3 * reach, width), neutral, np.uint8)
    bands[:, 0, reach:] = pictures[:, :2 * reach]
    bands[:, 1, :2 * reach] = pictures[:, height - 2 * reach:]
    edges = operation(bands.reshape(-1, width), kernel).reshape(bands.shape)
    result = operation(source, kernel, dst=dst)
    done = result.reshape(count, height, width)
    done[:, :reach] = edges[:, 0, reach:2 * reach]
    done[:, height - reach:] = edges[:, 1, reach:2 * reach]
    return result
