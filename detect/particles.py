"""Rain and snow: bright specks smaller than a 3x3 square, left out of the differences where they fall.

At work size (a quarter of a 640-pixel sub stream each way) a raindrop's streak is a line a pixel wide,
a splash or a snowflake a pixel or two, glints on water a pixel: a grey-level opening with a 3x3 square
(the darkest of each 3x3, then the brightest of that) takes them away and leaves whatever is wider than
that, people and vehicles included. The differences from the background and from the recent frames are
taken between the opened pictures, for cameras where it rains or snows: there, what the picture has
brighter than the background holds such specks (its white top-hat), which the background, an average,
does not. The measure is taken twice a second, with the upkeep; the background itself is still learnt
from the pictures as they are (so the measure never feeds on its own filtering).
"""

from __future__ import annotations

import cv2
import numpy as np

from detect.background import SQUARE
from detect.stack_ops import opened
from detect.workspace import Workspace

NOISE_SPECKS = 0.4  # sensor noise alone makes a mean top-hat of this much of its standard deviation
SPECKLED = 0.3  # it rains or snows where the mean top-hat is this much (levels) above the noise's ...
CLEARED = 0.2  # ... until it falls below this
RATE = 0.3  # the measure follows each new one at this rate
KNOWN = 6  # measures (3 s) before whether it rains is known: the smoothed measure is then 1 - 0.7**6 = 88 % of the way


def speckle(frames: np.ndarray, backgrounds: np.ndarray, space: Workspace) -> np.ndarray:
    """Per camera, the mean white top-hat of what the (n, H, W) uint8 `frames` have brighter than their
    `backgrounds` (which are learnt from frames without the specks, or average them away); the masks on the way
    are arrays of `space`."""
    count, height, width = frames.shape
    flat = (count * height, width)
    brighter = cv2.subtract(frames.reshape(flat), backgrounds.reshape(flat), dst=space.array("brighter", flat))
    without = opened(brighter, SQUARE, height, dst=space.array("brighter without specks", flat))
    specks: np.ndarray = cv2.subtract(brighter, without, dst=brighter)  # the white top-hat
    result: np.ndarray = specks.reshape(count, -1).mean(axis=1)
    return result


def raining(speckled: np.ndarray, measure: np.ndarray, noise: np.ndarray) -> np.ndarray:
    """Whether it rains or snows now, from whether it did (`speckled`), the camera's smoothed `measure` and its
    temporal `noise` (standard deviation; NaN until known: no rain yet)."""
    excess = measure - NOISE_SPECKS * noise
    result: np.ndarray = np.where(speckled, excess > CLEARED, excess > SPECKLED)
    return result


def without_specks(frames: np.ndarray) -> np.ndarray:
    """(n, H, W) uint8 `frames` with the specks taken out, in place; returns them."""
    count, height, width = frames.shape
    flat = frames.reshape(count * height, width)
    opened(flat, SQUARE, height, dst=flat)
    return frames


def specks_removed(difference: np.ndarray, frames: np.ndarray, reference: np.ndarray, rows: np.ndarray,
                   space: Workspace) -> None:
    """Rows `rows` of the (n, H, W) `difference` made again, as |`frames` - `reference`| without specks on either
    side (`frames`: those rows already without them; `reference`: all n, whose specks are taken out on a copy)."""
    others = without_specks(space.take_rows("reference without specks", reference, rows))
    difference[rows] = cv2.absdiff(frames, others).reshape(others.shape)
