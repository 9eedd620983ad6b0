"""The bank's per-camera state as columns: one array per value, one row (slot) per camera.

A tick reads and writes the rows of the cameras it processes with whole-array operations instead of
a Python loop over camera objects. Slots stay dense: removing a camera moves the last row into its slot.
"""

from __future__ import annotations

import math

import numpy as np

from detect.frames import CHROMA_GRID
from detect.motion_grid import GRID_BYTES

# name: (shape after the slot axis, with "H" and "W" for the work size; dtype; initial value)
_COLUMNS: dict[str, tuple[tuple[str | int, ...], type, float]] = {
    # pictures
    "frame": (("H", "W"), np.uint8, 0),  # the newest submitted work frame
    "recent": (("H", "W"), np.uint8, 0),  # the last few frames averaged
    "background": (("H", "W"), np.float32, 0),
    "background8": (("H", "W"), np.uint8, 0),
    "threshold_map": (("H", "W"), np.uint8, 255),  # per-pixel noise threshold; 255 where never detected
    "limits": (("H", "W"), np.uint8, 255),  # the noise thresholds raised where the background moves
    "variability": (("H", "W"), np.uint8, 0),  # running median of |frame - recent| (detect.variability)
    "bursts": (("H", "W"), np.uint8, 0),  # running lower third of its mean between two steps (detect.variability)
    "gathered": (("H", "W"), np.uint16, 0),  # |frame - recent| summed since the last step ...
    "gathered_frames": ((), np.int64, 0),  # ... over this many frames
    "last_foreground": (("H", "W"), np.uint8, 0),  # the last frame's foreground mask (0/255)
    "unlearnt": (("H", "W"), np.uint8, 255),  # off the background by over the noise in every frame since the first
    # (0/255; kept for a camera's first frames only: DetectorBank._ghosts)
    "chroma": ((2, *CHROMA_GRID), np.uint8, 128),
    # frames handed over by submit, waiting for a tick
    "pending": ((), np.bool_, False),
    "pending_t": ((), np.float64, 0.0),
    "has_chroma": ((), np.bool_, False),
    # timing and mode
    "last_t": ((), np.float64, -math.inf),  # time of the last processed frame, on the camera's bank clock ...
    "clock_shift": ((), np.float64, 0.0),  # ... which is the frames' wall-clock time plus this (DetectorBank._times)
    "last_wall": ((), np.float64, -math.inf),  # the last processed frame's wall-clock time
    "last_seen": ((), np.float64, -math.inf),  # ... and the bank's steady `now` then (DetectorBank._steady_now)
    "interval": ((), np.float64, math.nan),  # seconds between processed frames (smoothed)
    "is_ir": ((), np.bool_, False),  # the mode of the frames: detection follows it at once
    "reported_ir": ((), np.bool_, False),  # the mode reported: is_ir once it held mode_confirm_seconds
    "mode_since": ((), np.float64, -math.inf),
    "settle_until": ((), np.float64, -math.inf),
    "relearn_until": ((), np.float64, -math.inf),  # the variability is relearnt after a switch to IR until then
    "since_reset": ((), np.int64, 0),  # frames since the background was rebuilt
    "seen": ((), np.int64, 0),  # frames processed since the camera was added
    "big_since": ((), np.float64, math.nan),  # a global change (not lighting) has lasted since then
    "changed": ((), np.float64, 0.0),  # share of the watched picture in the last frame's foreground
    "moving": ((), np.float64, 0.0),  # the variability's mean over the picture
    "shaken_until": ((), np.float64, -math.inf),  # shake is measured until then (detect.shake)
    "speckle": ((), np.float64, 0.0),  # rain and snow in the picture (detect.particles), smoothed
    "raining": ((), np.bool_, False),  # ... and whether they are taken out of it
    "speckle_measures": ((), np.int64, 0),  # how many times the rain was measured
    # upkeep
    "noise": ((), np.float64, math.nan),  # temporal noise, 8-bit levels at work resolution
    "threshold": ((), np.int64, -1),
    "next_upkeep": ((), np.float64, -math.inf),
    # motion index: the wall-clock second being gathered and its cells so far (packed, see detect.motion_grid)
    "grid_second": ((), np.int64, -1),
    "grid_cells": ((GRID_BYTES,), np.uint8, 0),
    # settings
    "min_pixels": ((), np.int64, 0),  # foreground pixels a blob needs
    "watched_pixels": ((), np.int64, 1),
    "level": ((), np.float64, 0.5),  # sensitivity, 0..1
    "period": ((), np.float64, 0.0),  # 1 / the rate the camera is picked at (its frames come no closer on average)
}


class CameraTable:
    """Columns of per-camera state (attributes named as in `_COLUMNS`), `capacity` rows."""

    frame: np.ndarray
    recent: np.ndarray
    background: np.ndarray
    background8: np.ndarray
    threshold_map: np.ndarray
    limits: np.ndarray
    variability: np.ndarray
    bursts: np.ndarray
    gathered: np.ndarray
    gathered_frames: np.ndarray
    last_foreground: np.ndarray
    unlearnt: np.ndarray
    chroma: np.ndarray
    pending: np.ndarray
    pending_t: np.ndarray
    has_chroma: np.ndarray
    last_t: np.ndarray
    clock_shift: np.ndarray
    last_wall: np.ndarray
    last_seen: np.ndarray
    interval: np.ndarray
    is_ir: np.ndarray
    reported_ir: np.ndarray
    mode_since: np.ndarray
    settle_until: np.ndarray
    relearn_until: np.ndarray
    since_reset: np.ndarray
    seen: np.ndarray
    big_since: np.ndarray
    changed: np.ndarray
    moving: np.ndarray
    shaken_until: np.ndarray
    speckle: np.ndarray
    raining: np.ndarray
    speckle_measures: np.ndarray
    noise: np.ndarray
    threshold: np.ndarray
    next_upkeep: np.ndarray
    grid_second: np.ndarray
    grid_cells: np.ndarray
    min_pixels: np.ndarray
    watched_pixels: np.ndarray
    level: np.ndarray
    period: np.ndarray

    def __init__(self, size: tuple[int, int], capacity: int) -> None:
        self._size = size
        self.capacity = 0
        self.resize(capacity)

    def resize(self, capacity: int) -> None:
        """Make room for `capacity` cameras, keeping the rows that fit."""
        width, height = self._size
        dims = {"H": height, "W": width}
        kept = min(self.capacity, capacity)
        for name, (shape, dtype, initial) in _COLUMNS.items():
            sizes = (dims[d] if isinstance(d, str) else d for d in shape)
            column: np.ndarray = np.full((capacity, *sizes), initial, dtype)
            if kept:
                column[:kept] = getattr(self, name)[:kept]
            setattr(self, name, column)
        self.capacity = capacity

    def clear(self, slot: int) -> None:
        """Put a row back to its initial values."""
        for name, (_, _, initial) in _COLUMNS.items():
            getattr(self, name)[slot] = initial

    def move(self, source: int, target: int) -> None:
        for name in _COLUMNS:
            column = getattr(self, name)
            column[target] = column[source]
