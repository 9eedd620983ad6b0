"""Camera shake: each camera's global shift from its background, and its frame moved back onto it.

A camera on a pole sways slowly, shakes when a truck passes, jolts when something hits the pole. The shift
is found from the pictures' profiles (the mean of each row and of each column, differentiated so that a
change of brightness does not count): the profile of the frame against the background's, moved by whole
pixels up to REACH each way (mean squared difference), the best match refined with a parabola. People and
vehicles move a few rows and columns of the profiles; a shake moves all of them. Then the frame is moved
back onto the background (bilinear, what it does not cover taken from the background), and everything
after compares like with like; boxes are moved the other way when reported.

Profiles cost two reductions per picture; the bank measures only the cameras whose picture changed much in
their last frame or that shook lately (`detect.bank`).
"""

from __future__ import annotations

import cv2
import numpy as np

from detect.background import SQUARE

REACH = 4  # pixels at work size each way (16 at 640 across)
EDGE_SHARE = 0.25  # a shaken camera's threshold at an edge: this share of the background's 3x3 range (half a pixel off)
SMALLEST = 0.1  # a shift smaller than this (pixels at work size) is left alone
CLEAR = 0.9  # ... and so is one whose best match is not clearly better than none: at most this fraction of its cost


def shifts(frames: np.ndarray, backgrounds: np.ndarray) -> np.ndarray:
    """(n, 2) shifts (x, y) of the (n, H, W) uint8 frames from their float32 backgrounds: the frame shows at
    (u, v) what the background shows at (u - x, v - y); 0 where no clear shift was found."""
    along_x = _shift(_profile(frames, 1), _profile(backgrounds, 1))
    along_y = _shift(_profile(frames, 2), _profile(backgrounds, 2))
    return np.stack([along_x, along_y], axis=1)


def moved_back(frame: np.ndarray, background: np.ndarray, shift: np.ndarray) -> None:
    """Move one (uint8) frame by -`shift` in place, onto its (uint8) background, which fills what it leaves."""
    x, y = (float(value) for value in shift)
    moved = background.copy()
    matrix = np.array([[1, 0, -x], [0, 1, -y]], np.float32)
    cv2.warpAffine(frame, matrix, (frame.shape[1], frame.shape[0]), dst=moved, flags=cv2.INTER_LINEAR,
                   borderMode=cv2.BORDER_TRANSPARENT)
    np.copyto(frame, moved)


def edges_raised(difference: np.ndarray, background: np.ndarray, thresholds: np.ndarray, foreground: np.ndarray,
                 still: np.ndarray) -> None:
    """One shaken camera's `foreground` and `still` masks (0/255, written in place) from its `difference` with the
    thresholds raised along the background's edges: a frame moved back is off by a fraction of a pixel, which on a
    sharp edge is a difference of a fraction of the edge's step."""
    edges = cv2.morphologyEx(background, cv2.MORPH_GRADIENT, SQUARE)
    limits = cv2.addWeighted(edges, EDGE_SHARE, thresholds, 1.0, 0.0)  # saturated to 0..255
    cv2.compare(difference, limits, cv2.CMP_GT, dst=foreground)
    cv2.compare(difference, limits, cv2.CMP_LE, dst=still)


def above_edges(background: np.ndarray) -> np.ndarray:
    """One (uint8) background raised by what a frame moved back leaves along its edges (see `edges_raised`): what a
    shaken picture has brighter than this is no rain or snow."""
    edges = cv2.morphologyEx(background, cv2.MORPH_GRADIENT, SQUARE)
    raised: np.ndarray = cv2.addWeighted(edges, EDGE_SHARE, background, 1.0, 0.0)
    return raised


def _profile(pictures: np.ndarray, axis: int) -> np.ndarray:
    """Per picture, the differences between neighbouring means of rows (axis 2: a profile down the picture) or
    of columns (axis 1: across it)."""
    means = pictures.mean(axis=axis, dtype=np.float32)
    profile: np.ndarray = np.diff(means, axis=1)
    return profile


def _shift(now: np.ndarray, before: np.ndarray) -> np.ndarray:
    """Per camera, the shift s of `now` against `before` ((n, L) profiles), now[i] ~ before[i - s]."""
    length = now.shape[1]
    inner = now[:, REACH: length - REACH]
    costs = np.stack([np.square(inner - before[:, REACH - s: length - REACH - s]).mean(axis=1)
                      for s in range(-REACH, REACH + 1)], axis=1)
    best = np.clip(costs.argmin(axis=1), 1, 2 * REACH - 1)
    rows = np.arange(len(costs))
    left, centre, right = costs[rows, best - 1], costs[rows, best], costs[rows, best + 1]
    curve = np.maximum(left - 2 * centre + right, 1e-9)
    fine = np.clip(0.5 * (left - right) / curve, -0.5, 0.5)
    lowest = centre - 0.25 * (left - right) * fine  # the parabola's vertex
    shift = best - REACH + fine
    clear = (np.abs(shift) >= SMALLEST) & (lowest <= CLEAR * costs[:, REACH])
    result: np.ndarray = np.where(clear, shift, 0.0)
    return result
