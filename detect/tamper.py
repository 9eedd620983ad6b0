"""Tamper checks of one camera against its usual view: covered, turned away, defocused.

The usual view (a reference per mode, colour and IR) is a slow average of coarse 32x18 pictures,
plus the picture's coarse detail and sharpness, learnt while nothing looks wrong. A mode without a
usual view yet borrows the other mode's for the covered and turned-away checks (an IR view matches
its colour view in half of the regions or more; a camera turned away at night may well face a lit
street and switch to colour). Checks, run a few times a second per camera:

- covered: almost no contrast left, or the view no longer matches and has lost its coarse detail
  (a hand or a sheet of paper on the lens: at most a smooth gradient; a tilt to the ground keeps
  a fifth of it or more);
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
COVERED_DETAIL = 0.1  # or coarse detail below this fraction of the usual, with the view lost
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
    return _regions(_coarse(picture))


def _coarse(picture: np.ndarray) -> np.ndarray:
    return cv2.resize(picture, COARSE, interpolation=cv2.INTER_AREA).astype(np.float32)


def _detail(coarse: np.ndarray) -> float:
    """Mean |Laplacian| of the coarse picture: structure, blind to sensor noise (averaged away) and to
    smooth gradients of light."""
    return float(np.abs(cv2.Laplacian(coarse, cv2.CV_32F, ksize=1, borderType=cv2.BORDER_REPLICATE)).mean())


def _regions(coarse: np.ndarray) -> np.ndarray:
    rows, cols = REGIONS
    height, width = coarse.shape
    blocks = coarse.reshape(rows, height // rows, cols, width // cols).swapaxes(1, 2).reshape(rows * cols, -1)
    centred: np.ndarray = blocks - blocks.mean(axis=1, keepdims=True)
    return centred


@dataclass
class _Reference:
    regions: np.ndarray
    detail: float
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
        A borrowed reference (the other mode's) is not checked for defocus: sharpness differs by mode.
        """
        coarse = _coarse(work)
        regions, detail = _regions(coarse), _detail(coarse)
        reference, borrowed = self._reference(is_ir), False
        if reference is None:
            reference, borrowed = self._reference(not is_ir), True
        contrast = float(cv2.meanStdDev(work)[1][0, 0])
        if reference is None:
            self.signals = TamperSignals(covered=contrast < COVERED_CONTRAST)
        else:
            matched = matching(reference.regions, regions)
            covered = contrast < COVERED_CONTRAST or (matched < MOVED_MATCHING
                                                               and detail < COVERED_DETAIL * reference.detail)
            defocused = self.signals.defocused
            if not math.isnan(detail_sharpness) and not math.isnan(reference.sharpness):
                defocused = detail_sharpness < DEFOCUS_RATIO * reference.sharpness
            self.signals = TamperSignals(
                covered=covered, moved=not covered and matched < MOVED_MATCHING,
                defocused=not covered and not borrowed and defocused and matched >= MOVED_MATCHING)
            if self.signals.any or (not borrowed and matched < 1.0 - MOVED_MATCHING):
                return self.signals
        self._learn(is_ir, regions, detail, detail_sharpness, interval)
        return self.signals

    def _reference(self, is_ir: bool) -> _Reference | None:
        """The usual view of a mode, once learnt enough to be used."""
        reference = self._references.get(is_ir)
        return reference if reference is not None and reference.updates >= READY_UPDATES else None

    def _learn(self, is_ir: bool, regions: np.ndarray, detail: float, sharp: float, interval: float) -> None:
        reference = self._references.get(is_ir)
        if reference is None:
            self._references[is_ir] = reference = _Reference(regions.copy(), detail)
        reference.updates += 1
        rate = max(1.0 / reference.updates, interval / self._reference_seconds)
        reference.regions += rate * (regions - reference.regions)
        reference.detail += rate * (detail - reference.detail)
        if not math.isnan(sharp):
            known = not math.isnan(reference.sharpness)
            reference.sharpness = reference.sharpness + rate * (sharp - reference.sharpness) if known else sharp


def matching(reference: np.ndarray, current: np.ndarray) -> float:
    """Fraction of the reference's textured regions (see `coarse_regions`) that `current` still matches."""
    pixels = reference.shape[1]
    reference_norms = np.sqrt(np.einsum("ij,ij->i", reference, reference))
    textured = reference_norms >= _TEXTURE * math.sqrt(pixels)  # rows are zero-mean: norm = std * sqrt(n)
    if not textured.any():
        return 1.0
    norms = reference_norms * np.sqrt(np.einsum("ij,ij->i", current, current))
    correlation = np.einsum("ij,ij->i", reference, current) / np.maximum(norms, 1e-6 * pixels)
    return float((correlation[textured] >= MATCH_CORRELATION).mean())
