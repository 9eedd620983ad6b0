"""Automatic masking of a camera's burnt-in clock (on-screen display).

The clock sits in a band along the top or bottom edge, a text line high, clear of that edge;
its digits change every second and never move. Blobs of that shape and place are suspects: they
count as motion only if their track moves (see `regions.Tracker`). Where suspects keep showing up at
the same pixels in several different seconds, those pixels are masked for good.
"""

from __future__ import annotations

import math

import cv2
import numpy as np

from detect.background import SQUARE
from detect.regions import Blob

BAND = 0.2  # fraction of the height, at the top and at the bottom, where overlays are looked for
LINE_HEIGHT = 0.12  # a text line (blurred at work resolution) is at most this fraction of the height
SECONDS_NEEDED = 3  # suspects at a pixel in this many different seconds ...
WINDOW_SECONDS = 30.0  # ... within this long: the pixel is overlay


class OverlayLearner:
    def __init__(self, size: tuple[int, int]) -> None:
        width, height = size
        self.mask = np.zeros((height, width), bool)  # learnt overlay pixels
        self._votes = np.zeros((height, width), np.uint8)
        self._band = max(2, round(BAND * height))
        self._line = max(2, round(LINE_HEIGHT * height))
        self._second = -math.inf
        self._window_start = -math.inf

    def suspect(self, blob: Blob) -> bool:
        """Text-like: a line high, inside the top or bottom band, clear of the top and bottom edges."""
        height = self.mask.shape[0]
        top = blob.y0 > 0 and blob.y1 <= self._band
        bottom = blob.y0 >= height - self._band and blob.y1 < height
        return (top or bottom) and blob.y1 - blob.y0 <= self._line

    def observe(self, blobs: list[Blob], t: float) -> bool:
        """Count this frame's suspects (once per second); True if the learnt mask grew."""
        second = math.floor(t)
        if second == self._second:
            return False
        suspects = [blob for blob in blobs if self.suspect(blob)]
        if not suspects:
            return False
        self._second = second
        if t - self._window_start > WINDOW_SECONDS:
            self._votes[...] = 0
            self._window_start = t
        for blob in suspects:
            area = self._votes[blob.y0:blob.y1, blob.x0:blob.x1]
            np.minimum(area + 1, SECONDS_NEEDED, out=area, casting="unsafe")
        learnt = cv2.dilate((self._votes >= SECONDS_NEEDED).astype(np.uint8), SQUARE).astype(bool)
        grown = bool((learnt & ~self.mask).any())
        self.mask |= learnt
        return grown
