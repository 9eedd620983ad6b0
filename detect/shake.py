"""Camera shake: each camera's global shift from its background, and its frame moved back onto it.

A camera on a pole sways slowly, shakes when a truck passes, jolts when something hits the pole. The shift
is found from the pictures' profiles (the mean of each row and of each column, differentiated so that a
change of brightness does not count): the profile of the frame against the background's, moved by whole
pixels up to REACH each way (mean squared difference), the best match refined with a parabola. People and
vehicles move a few rows and columns of the profiles; a shake moves all of them. Then the frame is moved
back onto the background (bilinear, what it does not cover taken from the background), and everything
after compares like with like; boxes are moved the other way when reported.

A frame moved back is still not the background's picture: the shift is off by a tenth of a pixel or two, the
shake blurs the frame, the resampling smooths it, and the background, averaged over frames moved back by
different fractions, is softer than any of them (a thin wire loses half its contrast). Each of these makes a
pixel a blend of its neighbours, so a shaken camera's difference is how far the frame is outside what the
background covers within REACH of a pixel around it, and the background outside what the frame covers within
BACK_REACH around it (`out_of_reach`): an edge, a wire or a blurred step is within reach; a person, darker or
brighter than anything around it in the background, is not. The same goes for the change from the recent
frames that the variability learns, which otherwise learns the shake as texture and raises the thresholds
where people walk.

Profiles cost two reductions per picture; the bank measures only the cameras whose picture changed much in
their last frame or that shook lately (`detect.bank`).
"""

from __future__ import annotations

import cv2
import numpy as np

from detect.background import SQUARE
from detect.regions import Blob
from detect.stack_ops import dilated, eroded
from detect.workspace import Workspace

REACH = 4  # pixels at work size each way (16 at 640 across)
EDGE_SHARE = 0.25  # what a shaken camera's frame may be brighter than its background along an edge, as a share of the
# background's 3x3 range, and still be no rain or snow (see `above_edges`)
WITHIN = 0.75  # see out_of_reach: the background's range towards each neighbour, this share of the way
BACK_WITHIN = 0.35  # ... and the frame's (0.3: shake false alarms; 0.4-0.5: small, distant people missed), ...
BACK_CAP = 0.5  # ... at most this share of the background's own 3x3 range (0.35: false alarms at wires)
JOLT_SHIFT = 1.0  # a sudden big change with a shift this large (pixels at work size) is a jolt (see `jolted`)
SMALLEST = 0.1  # a shift smaller than this (pixels at work size) is left alone
CLEAR = 0.9  # ... and so is one whose best match is not clearly better than none: at most this fraction of its cost
EDGE_LINE = 2  # see thin_line (pixels at work size)


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


def out_of_reach(frames: np.ndarray, references: np.ndarray, differences: np.ndarray, space: Workspace) -> None:
    """Lower the `differences` of shaken cameras' `frames` from their `references` (background or recent frames;
    (n, H, W) uint8 stacks, `differences` written in place) to how far each frame pixel is outside the range its
    reference covers within WITHIN of the way to its eight neighbours, or the reference pixel outside what the frame
    covers within BACK_WITHIN, but by no more than BACK_CAP of the reference's own 3x3 range (what a softer
    background can have lost of a sharp feature: a motorbike's dark wheels beside its bright body are no reason to
    let the road through), whichever is less."""
    height = frames.shape[1]
    flat = (frames.shape[0] * height, frames.shape[2])
    frames2, references2, differences2 = frames.reshape(flat), references.reshape(flat), differences.reshape(flat)
    lowest = eroded(references2, SQUARE, height, dst=space.array("reach lowest", flat))
    highest = dilated(references2, SQUARE, height, dst=space.array("reach highest", flat))
    cap = cv2.subtract(highest, lowest, dst=space.array("reach cap", flat))
    cv2.convertScaleAbs(cap, dst=cap, alpha=BACK_CAP)
    low = cv2.addWeighted(references2, 1.0 - WITHIN, lowest, WITHIN, 0.0, dst=lowest)
    high = cv2.addWeighted(references2, 1.0 - WITHIN, highest, WITHIN, 0.0, dst=highest)
    _beyond(frames2, low, high, differences2)
    down = eroded(frames2, SQUARE, height, dst=low)
    up = dilated(frames2, SQUARE, height, dst=high)
    cv2.subtract(frames2, down, dst=down)
    cv2.subtract(up, frames2, dst=up)
    for allowance in (down, up):
        cv2.convertScaleAbs(allowance, dst=allowance, alpha=BACK_WITHIN)
        cv2.min(allowance, cap, dst=allowance)
    _beyond(references2, cv2.subtract(frames2, down, dst=down), cv2.add(frames2, up, dst=up), differences2)


def _beyond(pictures: np.ndarray, low: np.ndarray, high: np.ndarray, differences: np.ndarray) -> None:
    """`differences` lowered to how far `pictures` are below `low` or above `high` (uint8, all in place: `low` and
    `high` are overwritten)."""
    cv2.subtract(low, pictures, dst=low)
    cv2.subtract(pictures, high, dst=high)
    cv2.max(low, high, dst=low)
    cv2.min(differences, low, dst=differences)


def jolted(frames: np.ndarray, backgrounds: np.ndarray) -> np.ndarray:
    """Which of the (n, H, W) frames, each a sudden big change from its background, moved by JOLT_SHIFT or more: a
    truck hit the pole (the first frame of a jolt, before the camera was known to shake, looks like a change of
    lighting over the same view, and was made the new background, a few pixels off)."""
    moved: np.ndarray = np.abs(shifts(frames, backgrounds)).max(axis=1) >= JOLT_SHIFT
    return moved


def above_edges(background: np.ndarray) -> np.ndarray:
    """One (uint8) background raised by EDGE_SHARE of its 3x3 range (what a frame moved back may leave along its
    edges): what a shaken picture has brighter than this is no rain or snow."""
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


def thin_line(blob: Blob) -> bool:
    """Is the blob's box a line at most EDGE_LINE pixels thick? While a camera shakes, what moving its frame
    back leaves along a strong edge (`out_of_reach` takes most of it) is such a line, and over other draws of the
    corpus' jittering pole it was confirmed now and then in the quiet stretches (4 false alarms in 4 draws, rendered
    and coded alike). At the default settings (160x90 work pictures, objects of 0.3 % of the picture) the smallest
    object is 3 pixels or more each way; a `min_object_size` set much smaller may want a thinner line here."""
    return min(blob.x1 - blob.x0, blob.y1 - blob.y0) <= EDGE_LINE
