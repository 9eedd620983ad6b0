"""Tamper checks of one camera against its usual view: covered, turned away, defocused.

The usual view (a reference per mode, colour and IR) is a slow average of coarse 32x18 pictures,
plus the picture's contrast and sharpness, learnt while nothing looks wrong. Checks, run a few times
a second per camera:

- covered: almost no contrast left, or much less than usual and the view no longer matches;
- turned away: few of the 4x3 regions that have texture in the reference still match it (local
  normalized correlation, so lights and exposure don't matter, and a truck filling part of the
  view leaves the other regions matching);
- defocused or smeared: sharpness (mean |Laplacian| over contrast, at up to twice the work
  resolution) collapsed while the coarse view still matches.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np

COARSE = (32, 18)  # width, height of the coarse picture
REGIONS = (3, 4)  # rows, columns of regions compared
COVERED_CONTRAST = 4.0  # spatial std (8-bit levels) below which a picture is blank whatever it was
COVERED_RELATIVE = 0.35  # or below this fraction of the usual contrast, with the view lost
MATCH_CORRELATION = 0.6  # a region matches the reference at or above this local correlation
MOVED_MATCHING = 0.25  # turned away: less than this fraction of textured regions match
DEFOCUS_RATIO = 0.5  # defocused: sharpness below this fraction of the usual
READY_UPDATES = 4  # a reference is used after this many updates
_TEXTURE = 2.0  # a region with less std than this in the reference is not compared


@dataclass(frozen=True)
class TamperSignals:
    covered: bool = False
    moved: bool = False
    defocused: bool = False

    @property
    def any(self) -> bool:
        return self.covered or self.moved or self.defocused


def sharpness(picture: np.ndarray) -> float:
    """Mean |Laplacian| per level of contrast: falls when the picture is blurred, whatever the lighting."""
    laplacian = cv2.Laplacian(picture, cv2.CV_16S)
    _, std = cv2.meanStdDev(picture)
    return float(cv2.norm(laplacian, cv2.NORM_L1)) / laplacian.size / (float(std[0, 0]) + 1.0)


def coarse_regions(picture: np.ndarray) -> np.ndarray:
    """(regions, pixels): the picture at COARSE size cut into REGIONS, each row zero-mean."""
    coarse = cv2.resize(picture, COARSE, interpolation=cv2.INTER_AREA).astype(np.float32)
    rows, cols = REGIONS
    height, width = coarse.shape
    blocks = coarse.reshape(rows, height // rows, cols, width // cols).swapaxes(1, 2).reshape(rows * cols, -1)
    centred: np.ndarray = blocks - blocks.mean(axis=1, keepdims=True)
    return centred


@dataclass
class _Reference:
    regions: np.ndarray
    contrast: float
    sharpness: float = math.nan
    updates: int = 0


class TamperWatch:
    """Tamper signals of one camera; `check` is called with the work picture a few times a second."""

    def __init__(self, reference_seconds: float) -> None:
        self._reference_seconds = reference_seconds
        self._references: dict[bool, _Reference] = {}
        self.signals = TamperSignals()

    def check(self, work: np.ndarray, detail_sharpness: float, is_ir: bool, interval: float) -> TamperSignals:
        """Signals for this picture; learns it into the reference when nothing looks wrong.

        `detail_sharpness` may be NaN (not measured this time): the defocus signal then stays as it was.
        """
        regions = coarse_regions(work)
        contrast = float(work.std())
        reference = self._references.get(is_ir)
        if reference is None or reference.updates < READY_UPDATES:
            self.signals = TamperSignals(covered=contrast < COVERED_CONTRAST)
        else:
            matched = matching(reference.regions, regions)
            covered = contrast < COVERED_CONTRAST or (contrast < COVERED_RELATIVE * reference.contrast
                                                      and matched < MOVED_MATCHING)
            defocused = self.signals.defocused
            if not math.isnan(detail_sharpness) and not math.isnan(reference.sharpness):
                defocused = detail_sharpness < DEFOCUS_RATIO * reference.sharpness
            self.signals = TamperSignals(covered=covered, moved=not covered and matched < MOVED_MATCHING,
                                         defocused=not covered and defocused and matched >= MOVED_MATCHING)
            if self.signals.any or matched < 1.0 - MOVED_MATCHING:
                return self.signals
        self._learn(is_ir, regions, contrast, detail_sharpness, interval)
        return self.signals

    def _learn(self, is_ir: bool, regions: np.ndarray, contrast: float, sharp: float, interval: float) -> None:
        reference = self._references.get(is_ir)
        if reference is None:
            self._references[is_ir] = reference = _Reference(regions.copy(), contrast)
        reference.updates += 1
        rate = max(1.0 / reference.updates, interval / self._reference_seconds)
        reference.regions += rate * (regions - reference.regions)
        reference.contrast += rate * (contrast - reference.contrast)
        if not math.isnan(sharp):
            known = not math.isnan(reference.sharpness)
            reference.sharpness = reference.sharpness + rate * (sharp - reference.sharpness) if known else sharp


def matching(reference: np.ndarray, current: np.ndarray) -> float:
    """Fraction of the reference's textured regions (see `coarse_regions`) that `current` still matches."""
    pixels = reference.shape[1]
    textured = reference.std(axis=1) >= _TEXTURE
    if not textured.any():
        return 1.0
    norms = np.linalg.norm(reference, axis=1) * np.linalg.norm(current, axis=1)
    correlation = (reference * current).sum(axis=1) / np.maximum(norms, 1e-6 * pixels)
    return float((correlation[textured] >= MATCH_CORRELATION).mean())
