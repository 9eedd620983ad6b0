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
- defocused or smeared: sharpness (mean |Laplacian| of the work picture over its contrast) collapsed
  while the coarse view still matches.

The pictures' features (coarse regions, detail, contrast, sharpness) and their matching against the usual views
are computed for all the cameras due a check in one go (`check_all`); the verdict and the learning are
per camera.
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


def _sharpness(picture: np.ndarray, contrast: float) -> float:
    """Mean |Laplacian| per level of contrast: falls when the picture is blurred, whatever the lighting."""
    laplacian = cv2.Laplacian(picture, cv2.CV_16S)
    return float(cv2.norm(laplacian, cv2.NORM_L1)) / laplacian.size / (contrast + 1.0)


def coarse_regions(picture: np.ndarray) -> np.ndarray:
    """(regions, pixels): the picture at COARSE size cut into REGIONS, each row zero-mean."""
    return _regions(_coarse(picture[None]))[0]


def _coarse(pictures: np.ndarray) -> np.ndarray:
    """(n, h, w) pictures at COARSE size, float32; one resize for the stack when the sizes divide exactly."""
    count, height, width = pictures.shape
    columns, rows = COARSE
    if height % rows == 0 and width % columns == 0:  # no coarse pixel straddles two pictures of the stack
        stacked = cv2.resize(pictures.reshape(count * height, width), (columns, count * rows),
                             interpolation=cv2.INTER_AREA)
        return stacked.reshape(count, rows, columns).astype(np.float32)
    return np.stack([cv2.resize(picture, COARSE, interpolation=cv2.INTER_AREA) for picture in pictures]
                    ).astype(np.float32)


def _details(coarse: np.ndarray) -> np.ndarray:
    """Mean |Laplacian| (4 neighbours, edges replicated) of each coarse picture: structure, blind to
    sensor noise (averaged away) and to smooth gradients of light."""
    padded = np.pad(coarse, ((0, 0), (1, 1), (1, 1)), mode="edge")
    laplacian = (padded[:, :-2, 1:-1] + padded[:, 2:, 1:-1] + padded[:, 1:-1, :-2] + padded[:, 1:-1, 2:]
                 - 4.0 * coarse)
    details: np.ndarray = np.abs(laplacian).mean(axis=(1, 2))
    return details


def _regions(coarse: np.ndarray) -> np.ndarray:
    """(n, regions, pixels) of (n, h, w) coarse pictures, each region zero-mean."""
    rows, cols = REGIONS
    count, height, width = coarse.shape
    blocks = coarse.reshape(count, rows, height // rows, cols, width // cols).swapaxes(2, 3)
    blocks = blocks.reshape(count, rows * cols, -1)
    centred: np.ndarray = blocks - blocks.mean(axis=2, keepdims=True)
    return centred


@dataclass(frozen=True)
class TamperFeatures:
    """What the checks look at in one picture."""

    regions: np.ndarray  # see coarse_regions
    detail: float  # see _details
    contrast: float  # spatial std of the work picture
    sharpness: float  # see _sharpness

    @staticmethod
    def of(pictures: np.ndarray) -> list[TamperFeatures]:
        """Features of each of (n, H, W) work pictures."""
        coarse = _coarse(pictures)
        features = []
        for regions, detail, picture in zip(_regions(coarse), _details(coarse).tolist(), pictures, strict=True):
            contrast = float(cv2.meanStdDev(picture)[1][0, 0])
            features.append(TamperFeatures(regions, detail, contrast, _sharpness(picture, contrast)))
        return features


@dataclass
class _Reference:
    regions: np.ndarray
    detail: float
    sharpness: float
    updates: int = 0


class TamperWatch:
    """Tamper signals of one camera, checked a few times a second (see `check_all`)."""

    def __init__(self, reference_seconds: float) -> None:
        self._reference_seconds = reference_seconds
        self._references: dict[bool, _Reference] = {}
        self.signals = TamperSignals()

    def usual_view(self, is_ir: bool) -> tuple[_Reference | None, bool]:
        """The reference to compare a picture of this mode with, and whether it is borrowed from the other mode."""
        reference = self._reference(is_ir)
        if reference is not None:
            return reference, False
        return self._reference(not is_ir), True

    def check(self, features: TamperFeatures, view: tuple[_Reference | None, bool], matched: float, is_ir: bool,
              interval: float) -> None:
        """Set `signals` for this picture, given its `usual_view` and the fraction of it that `matched`; learn
        the picture into the reference when nothing looks wrong.

        A borrowed reference (the other mode's) is not checked for defocus: sharpness differs by mode.
        """
        detail, contrast = features.detail, features.contrast
        reference, borrowed = view
        if reference is None:
            self.signals = TamperSignals(covered=contrast < COVERED_CONTRAST)
        else:
            covered = contrast < COVERED_CONTRAST or (matched < MOVED_MATCHING
                                                               and detail < COVERED_DETAIL * reference.detail)
            defocused = features.sharpness < DEFOCUS_RATIO * reference.sharpness
            self.signals = TamperSignals(
                covered=covered, moved=not covered and matched < MOVED_MATCHING,
                defocused=not covered and not borrowed and defocused and matched >= MOVED_MATCHING)
            if self.signals.any or (not borrowed and matched < 1.0 - MOVED_MATCHING):
                return
        self._learn(is_ir, features, interval)

    def _reference(self, is_ir: bool) -> _Reference | None:
        """The usual view of a mode, once learnt enough to be used."""
        reference = self._references.get(is_ir)
        return reference if reference is not None and reference.updates >= READY_UPDATES else None

    def _learn(self, is_ir: bool, features: TamperFeatures, interval: float) -> None:
        reference = self._references.get(is_ir)
        if reference is None:
            self._references[is_ir] = reference = _Reference(features.regions.copy(), features.detail,
                                                             features.sharpness)
        reference.updates += 1
        rate = max(1.0 / reference.updates, interval / self._reference_seconds)
        reference.regions += rate * (features.regions - reference.regions)
        reference.detail += rate * (features.detail - reference.detail)
        reference.sharpness += rate * (features.sharpness - reference.sharpness)


def check_all(watches: list[TamperWatch], pictures: np.ndarray, is_ir: list[bool], interval: float) -> None:
    """Check the (n, H, W) work pictures of n cameras (their watches and modes), `interval` seconds after
    their last check: features and region matching for all of them in one go, then each watch sets its
    `signals`."""
    features = TamperFeatures.of(pictures)
    views = [watch.usual_view(ir) for watch, ir in zip(watches, is_ir, strict=True)]
    compared = [(i, reference) for i, (reference, _) in enumerate(views) if reference is not None]
    matched = [1.0] * len(watches)
    if compared:
        fractions = matching_many(np.stack([reference.regions for _, reference in compared]),
                                  np.stack([features[i].regions for i, _ in compared]))
        for (i, _), fraction in zip(compared, fractions.tolist(), strict=True):
            matched[i] = fraction
    for watch, feature, view, match, ir in zip(watches, features, views, matched, is_ir, strict=True):
        watch.check(feature, view, match, ir, interval)


def matching(reference: np.ndarray, current: np.ndarray) -> float:
    """Fraction of the reference's textured regions (see `coarse_regions`) that `current` still matches."""
    return float(matching_many(reference[None], current[None])[0])


def matching_many(references: np.ndarray, currents: np.ndarray) -> np.ndarray:
    """`matching` of n pairs of (n, regions, pixels) stacks; 1.0 where a reference has no textured region."""
    pixels = references.shape[2]
    reference_norms = np.sqrt((references * references).sum(axis=2))
    textured = reference_norms >= _TEXTURE * math.sqrt(pixels)  # rows are zero-mean: norm = std * sqrt(n)
    norms = reference_norms * np.sqrt((currents * currents).sum(axis=2))
    correlation = (references * currents).sum(axis=2) / np.maximum(norms, 1e-6 * pixels)
    compared = textured.sum(axis=1)
    matched = ((correlation >= MATCH_CORRELATION) & textured).sum(axis=1)
    fractions: np.ndarray = np.where(compared > 0, matched / np.maximum(compared, 1), 1.0)
    return fractions
