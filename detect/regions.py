"""Moving regions: blobs from the foreground masks of the cameras that may see motion, and tracks.

Blob extraction runs on the stack of those cameras at once: speckle removal, grouping and contour
search are one OpenCV call each (a blank row at the top of every camera keeps blobs apart).
`cv2.connectedComponentsWithStats` is avoided: 70-110 µs per 160x90 mask here, against 10 µs for
`findContours`. Tracking is per camera, in Python, over a handful of blobs.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from itertools import pairwise
from typing import NamedTuple

import cv2
import numpy as np

from detect.background import SQUARE
from detect.settings import TUNED_FPS  # the per-frame rules below were tuned at this rate; see frame_steps
from detect.stack_ops import dilated
from detect.workspace import Workspace

ADJACENT = np.array([[0, 1, 0], [1, 0, 1], [0, 1, 0]], np.uint8)  # a pixel without any of these set is noise
CROSS = np.array([[0, 1, 0], [1, 1, 1], [0, 1, 0]], np.uint8)  # a pixel and its four neighbours
CHANGING = 0.05  # a blob with this fraction of its pixels changing since the last frame is moving
SOFT = 0.4  # see is_soft; a Gaussian blob of sigma s pixels has 0.6 / s
CLIPPED = 245  # luma from which a pixel counts as clipped white
MEDIAN_PIXELS = 40  # see is_soft
MAX_STEP = 0.6  # see _steady; ground truth movers of the corpus reach 0.31 at 15 fps
MAX_STEP_STRAIGHT, STRAIGHT_LINE = 1.0, 0.8  # see _steady
TEXTURE_TRAVEL = 0.25  # see Tracker.update
STRAIGHT = 0.5  # see _went
FALL = 2.0  # see Tracker.update: 30 work pixels a second at 15 fps, a third of the picture's height
FALL_FRAMES = 4  # see _falls
STILL_SECONDS = 2.0  # a confirmed blob that has not changed for this long is something that stopped
MOVING_SECONDS = 0.5  # ... and it is reported as moving only while it changed within this long
PICKED = 0.1  # see frames_needed
TOP_ROW = 1  # find_blobs blanks each camera's rows above this to keep the stacked cameras apart
LIVELY = 0.25  # see Tracker.update: where it rains, a frame of change needs this share of the blob's pixels changing


class Blob(NamedTuple):
    """A region of foreground (a tuple: a busy scene makes a few per camera per frame)."""

    x0: int  # pixels [x0, x1) x [y0, y1) at work resolution
    y0: int
    x1: int
    y1: int
    pixels: int  # foreground pixels in it
    changing: int  # of which differ from the recent frames
    soft: bool = False  # blurred all over, like something right in front of the lens (see `is_soft`)

    @property
    def size(self) -> int:
        return max(self.x1 - self.x0, self.y1 - self.y0)

    @property
    def area(self) -> int:
        return (self.x1 - self.x0) * (self.y1 - self.y0)


def find_blobs(foreground: np.ndarray, changing: np.ndarray, min_pixels: np.ndarray, searched: np.ndarray,
               space: Workspace) -> list[list[Blob]]:
    """Blobs per camera of (n, H, W) 0/255 masks, with at least `min_pixels[i]` pixels once lone pixels are
    dropped (noise: most of the contours otherwise, each costing a Python round trip).

    `changing` marks the pixels that differ from the camera's previous frame (overwritten: it ends up as the
    blobs' changing pixels); cameras not `searched` get no blobs. The other masks on the way are arrays of
    `space`.
    """
    count, height, width = foreground.shape
    flat = (count * height, width)
    solid = dilated(foreground.reshape(flat), ADJACENT, height, dst=space.array("solid", flat))
    cv2.bitwise_and(foreground.reshape(flat), solid, dst=solid)
    if not searched.all():
        solid.reshape(count, height, width)[~searched] = 0
    # fragments of one object within a pixel of each other are one blob
    grouped = dilated(solid, SQUARE, height, dst=space.array("grouped", flat)).reshape(count, height, width)
    grouped[:, :TOP_ROW] = 0  # keeps the cameras apart
    contours, _ = cv2.findContours(grouped.reshape(flat), cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
    moving = cv2.bitwise_and(solid, changing.reshape(flat), dst=changing.reshape(flat))
    blobs: list[list[Blob]] = [[] for _ in range(count)]
    if not contours:
        return blobs
    rects = np.array([cv2.boundingRect(contour) for contour in contours]).reshape(-1, 4)
    x, top, w, h = rects.T
    camera, y = np.divmod(top, height)
    # undo the grouping dilation (one pixel each side) except where it was clipped by the frame
    x0, y0, x1, y1 = x + (x > 0), y + (y > TOP_ROW), x + w - (x + w < width), y + h - (y + h < height)
    # contours too small to hold a blob (what noise is left) are dropped without counting
    big = (x1 - x0) * (y1 - y0) >= min_pixels[camera]
    for c, left, top_row, right, bottom, least in zip(camera[big].tolist(), x0[big].tolist(), y0[big].tolist(),
                                                      x1[big].tolist(), y1[big].tolist(),
                                                      min_pixels[camera[big]].tolist(), strict=True):
        rows = slice(c * height + top_row, c * height + bottom)
        pixels = cv2.countNonZero(solid[rows, left:right])
        if pixels >= least:
            blobs[c].append(Blob(left, top_row, right, bottom, pixels, cv2.countNonZero(moving[rows, left:right])))
    return blobs


def changed_enough(blob: Blob) -> bool:
    """Did enough of its pixels change since the recent frames for the blob to count as change (unless soft)?"""
    return blob.changing >= max(3.0, CHANGING * blob.pixels)


def is_soft(difference: np.ndarray, frame: np.ndarray, blob: Blob) -> bool:
    """Out of focus: the difference's steepest step between neighbours inside the box is below SOFT of
    its peak (in the corpus: 0.2 % of movers' blobs and none of the insects' are on the wrong side).

    Insects and rain drops lit by the IR illuminator right in front of the lens are big blurred
    blobs; a person or a vehicle, in focus, has edges of a pixel or two at work resolution. Steps
    next to clipped (white) pixels say nothing: there the difference follows the background. Nor do
    specks and thin strokes of some other change inside the box (a clock digit ticking, text or a wire
    that clips in the insect's light): a blob of MEDIAN_PIXELS or more is judged after a 3x3 median,
    which removes those and keeps the edges of anything wider than a pixel.
    """
    area = difference[blob.y0:blob.y1, blob.x0:blob.x1]
    if area.shape[0] < 2 or area.shape[1] < 2:
        return False
    if blob.pixels >= MEDIAN_PIXELS:
        area = cv2.medianBlur(np.ascontiguousarray(area), 3)
    peak = cv2.minMaxLoc(area)[1]
    if peak == 0:
        return False
    # OpenCV calls rather than NumPy's: a rainy night asks this of about one blob per camera and frame, and on boxes
    # this small each NumPy step costs more than its pixels (59 against 21 µs a blob, 2026-12-03); `lit` is 255 where
    # the frame is below CLIPPED, the maxima are taken where both neighbours are lit (none: a location of -1)
    lit = cv2.threshold(frame[blob.y0:blob.y1, blob.x0:blob.x1], CLIPPED - 1, 255, cv2.THRESH_BINARY_INV)[1]
    _, down, _, down_at = cv2.minMaxLoc(cv2.absdiff(area[1:], area[:-1]), cv2.bitwise_and(lit[1:], lit[:-1]))
    _, across, _, across_at = cv2.minMaxLoc(cv2.absdiff(area[:, 1:], area[:, :-1]),
                                            cv2.bitwise_and(lit[:, 1:], lit[:, :-1]))
    if down_at == across_at == (-1, -1):  # no two neighbours lit: clipped all over, nothing tells its focus
        return False
    return max(down, across) < SOFT * peak


@dataclass
class _Track:
    blob: Blob
    origin: Blob  # where the track was first seen
    frames: int  # frames seen
    changes: int  # frames in which the blob was changing, less those in which it was no object (never below 0)
    changed_t: float  # when it last changed (or appeared)
    travel: float = 0.0  # sum of the per-frame moves of its centre (largest coordinate), pixels
    misses: int = 0
    confirmed: bool = False
    hopped: bool = False  # it went on with a blob clear of its last one (`_near` reaches past the box)
    spans: deque[tuple[int, int]] = field(init=False)  # (y0, y1) of its latest FALL_FRAMES + 1 blobs, from the origin's

    def __post_init__(self) -> None:
        self.spans = deque([(self.origin.y0, self.origin.y1)], maxlen=FALL_FRAMES + 1)

    def continue_with(self, blob: Blob, t: float, changing: bool, an_object: bool) -> None:
        """The track's object is `blob` in this frame (`changing`, and whether it looked like `an_object`)."""
        self.travel += _centre_distance(self.blob, blob)
        self.hopped = self.hopped or not _meet(self.blob, blob)
        self.blob = blob
        self.spans.append((blob.y0, blob.y1))
        self.frames += 1
        self.misses = 0
        if changing and an_object:
            self.changes += 1
            self.changed_t = t
        elif changing:  # flicker in place: one frame of it undoes one of change
            self.changes = max(0, self.changes - 1)


def frame_steps(interval: np.ndarray) -> np.ndarray:
    """How many frames at TUNED_FPS each camera's frames are apart (`interval`, seconds; NaN until known): 1 above
    10 fps, 2 at 7.5 fps, 3 at 5 fps. An object moves that many times as far from one analysed frame to
    the next, and the rules that bound a frame's move (`_near`, `_steady`, `_falls`, the foreground that must
    last from one frame to the next) widen as many times; at 1 they are exactly what was tuned."""
    steps: np.ndarray = np.maximum(1, np.rint(np.nan_to_num(interval, nan=0.0) * TUNED_FPS)).astype(int)
    return steps


def frames_needed(persist: np.ndarray, interval: np.ndarray, period: np.ndarray) -> np.ndarray:
    """How many frames a track must be seen changing to last `persist` seconds, frames `interval` s apart (smoothed;
    NaN until known: 1), rounded up (a hundredth of a frame spared for rounding). An interval within PICKED of the
    `period` the camera is picked at (1 / its analysed rate) counts as that period: a 25 or 20 fps camera picked to
    15 frames a second comes 40/80/80 or 50/50/100 ms apart, its smoothed interval swings 2-3 % either way of
    1/15 s (a 15 fps one capped at 12.5, 6 % of 1/12.5), and 0.2 s of infrared persistence was 3 frames at one
    tick and 4 at the next (the rain's 0.33 s 5 or 6). The smoothed interval itself is left as it is: the bank's
    other uses of it (`frame_steps`, the background's learning rate) round to the nearest step, which the swing
    does not cross."""
    steady = np.where(np.abs(interval - period) <= PICKED * period, period, interval)
    frames = np.maximum(1, np.ceil(persist / np.where(np.isnan(steady), np.inf, steady) - 0.01))
    needed: np.ndarray = frames.astype(int)
    return needed


def _near(a: Blob, b: Blob, steps: int) -> bool:
    """Could b be a's object one frame later (`steps` frames at TUNED_FPS)? Boxes overlap once a's is widened by
    half its size for each step."""
    return _meet(a, b, max(2, a.size // 2) * steps)


def _meet(a: Blob, b: Blob, margin: int = 0) -> bool:
    """Do the boxes overlap once a's is widened by `margin` pixels on each side?"""
    return a.x0 - margin < b.x1 and b.x0 < a.x1 + margin and a.y0 - margin < b.y1 and b.y0 < a.y1 + margin


class Tracker:
    """Confirms blobs that persist and move steadily: seen changing in `frames` frames of a track (one
    missed frame forgiven; a lighting residue changes once, when it appears), not jumping about. Until a
    track is confirmed, a frame where its blob is `not_an_object` (out of focus, or the background moved a
    little: `detect.texture`) takes one frame of change back: a tree in a gust is a track for seconds, and
    the odd frame its leaves are not explained must not add up to an object.

    A blob that `stationary_suspect` flags (e.g. text-like, in the overlay band) is confirmed only once
    its track has travelled twice its size, each frame's box overlapping the last: a clock changing its digits never
    does (a track of the date's digits that went on with the seconds' blob 11 pixels away was the corpus' water at
    dusk's one false alarm, 2026-12-02). A track
    whose blob has not changed from frame to frame for STILL_SECONDS (something that stopped, or a
    lighting residue that crept in) is reported as still, to be absorbed, never as moving.
    """

    def __init__(self, size: tuple[int, int]) -> None:
        self._tracks: list[_Track] = []
        self._size = size  # the picture's width and height (work pixels)

    @property
    def active(self) -> bool:
        return bool(self._tracks)

    def clear(self) -> None:
        self._tracks = []

    def update(self, blobs: list[Blob], t: float, frames: int, stationary_suspect: Callable[[Blob], bool],
               not_an_object: Callable[[Blob], bool], falling: bool, in_texture: Callable[[Blob], bool], steps: int,
               weather_unknown: bool = False) -> tuple[list[Blob], list[Blob]]:
        """Feed this frame's blobs; returns (moving, still): confirmed blobs that changed within
        MOVING_SECONDS (a ghost left where something was does not hold an event for seconds), and blobs of any track
        that has not changed for STILL_SECONDS. Where things are `falling` (rain,
        snow), a track that drops by FALL pixels a frame or more is a flake or a drop near the lens; where the
        background moves (`in_texture`), a track must have travelled TEXTURE_TRAVEL of its size (a tree's crown in a
        gust stays where it is). Until the camera knows whether it rains (`weather_unknown`: its first seconds,
        `detect.particles.KNOWN`), both hold: it may be snowing, and a flake near the lens or flakes side by side
        wander in place as leaves do. The texture rule is lifted for a track that came in at the picture's edge (its
        box's centre moves at half its speed while it enters); the falling rule is not (flakes come in at the top).
        Where it rains, a frame counts as change for a track not confirmed yet only when LIVELY of its blob's pixels
        changed since the recent frames: a coded stream turns streaks into blotches that the encoder keeps for a few
        frames (skipped blocks), a blob that differs from the background but hardly changes, where a person's or a
        motorbike's changes along its edges. `steps`: see `frame_steps`."""
        free = list(self._tracks)  # tracks not continued yet, in order: each continues into one blob at most
        tracks: list[_Track] = []
        for blob in sorted(blobs, key=_largest_first):
            changing = not blob.soft and changed_enough(blob)
            lively = blob.changing >= LIVELY * blob.pixels or not falling
            for j, track in enumerate(free):
                if _near(track.blob, blob, steps):
                    del free[j]
                    counts = changing and (track.confirmed or lively)  # whether it is no object matters only then
                    track.continue_with(blob, t, counts, counts and (track.confirmed or not not_an_object(blob)))
                    tracks.append(track)
                    break
            else:
                tracks.append(_Track(blob, blob, 1, int(changing and lively and not not_an_object(blob)), t))
        for track in free:
            if track.misses == 0:
                track.misses = 1
                tracks.append(track)
        self._tracks = tracks
        moving, still = [], []
        for track in tracks:
            if track.misses:
                continue
            if t - track.changed_t >= STILL_SECONDS:
                still.append(track.blob)
                continue
            if (not track.confirmed and track.changes >= frames and _steady(track, steps)
                    and not ((falling or weather_unknown) and _falls(track, steps, self._size[1]))
                    and (_went(track) or not (in_texture(track.blob)
                                              or (weather_unknown and not _at_edge(track.origin, self._size))))):
                track.confirmed = not stationary_suspect(track.blob) or (_travelled(track, 2.0) and not track.hopped)
            if track.confirmed and t - track.changed_t < MOVING_SECONDS:
                moving.append(track.blob)
        return moving, still

    def blobs(self) -> list[Blob]:
        """The latest blob of every track that may be an object (seen in this frame or the one before): confirmed,
        or with more frames of change than of flicker in place so far."""
        return [track.blob for track in self._tracks if track.confirmed or track.changes]


def _at_edge(blob: Blob, size: tuple[int, int]) -> bool:
    """Does the blob touch the edge of a picture of this `size` (width, height)? (`find_blobs` starts a blob at the
    picture's top at TOP_ROW.)"""
    width, height = size
    return blob.x0 == 0 or blob.y0 <= TOP_ROW or blob.x1 == width or blob.y1 == height


def _largest_first(blob: Blob) -> int:
    return -blob.pixels


def _steady(track: _Track, steps: int) -> bool:
    """Does it move like a person or a vehicle? At most MAX_STEP of its size per frame (of `steps` at TUNED_FPS) on
    average: insects and rain drops lit right in front of the lens jump about by more than their (blurred) size. A
    blob that keeps to a line (`_along_a_line`, STRAIGHT_LINE) may step MAX_STEP_STRAIGHT of its size: what a dim
    picture shows of a fast vehicle (a few rows of it) is smaller than the vehicle."""
    frames = max(1, track.frames - 1)
    limit = (MAX_STEP_STRAIGHT if _along_a_line(track, STRAIGHT_LINE) else MAX_STEP) * steps
    return track.travel / frames <= limit * max(track.origin.size, track.blob.size)


def _falls(track: _Track, steps: int, height: int) -> bool:
    """Does it fall as a flake or a drop near the lens does, FALL pixels a frame (of `steps` at TUNED_FPS)? It has
    fallen that far a frame since it was first seen, or over its last FALL_FRAMES frames, and it still falls: in at
    least half of its last FALL_FRAMES frames.

    Why the second part: a track goes on with whatever blob comes near. Measured only from where the track began,
    a near-lens flake's track that went on with a vehicle coming in at the bottom kept the flake's fall for a
    second, and the vehicle was no object (the corpus' snow: a car, and half its people missed over four draws).
    Why the average over the last frames as well: a flake's track that a new flake took over (it fell in at the
    top as the first fell out at the bottom) fell less than FALL a frame since its origin.
    How far a box falls: by its bottom edge while it comes in at the picture's top (its top edge stays there), by
    its top edge while it goes out at the bottom, else by its centre (`_fall`, in a picture `height` rows high)."""
    limit = FALL * steps
    spans = track.spans
    fell = sum(_fall(a, b, height) >= limit for a, b in pairwise(spans))
    origin = (track.origin.y0, track.origin.y1)
    far = (_fall(origin, spans[-1], height) >= limit * max(1, track.frames - 1)
           or _fall(spans[0], spans[-1], height) >= limit * max(1, len(spans) - 1))
    return far and fell >= 0.5 * max(1, len(spans) - 1)


def _fall(a: tuple[int, int], b: tuple[int, int], height: int) -> float:
    """How far a box's rows went down from `a` to `b` ((y0, y1) each), as `_falls` measures it."""
    if a[0] <= TOP_ROW and a[1] < height and b[1] < height:
        return float(b[1] - a[1])
    if b[1] == height and a[0] > TOP_ROW and b[0] > TOP_ROW:
        return float(b[0] - a[0])
    return (b[0] + b[1] - a[0] - a[1]) / 2


def _went(track: _Track) -> bool:
    """Has the blob travelled TEXTURE_TRAVEL of its extent across or down (a person walking across: of its width)
    from where it was first seen, along a path that mostly went that way (at least STRAIGHT of it)? A patch of water
    or leaves wanders to and fro, and jumps when it merges with another."""
    a, b = track.origin, track.blob
    across, down = abs(b.x0 + b.x1 - a.x0 - a.x1) / 2, abs(b.y0 + b.y1 - a.y0 - a.y1) / 2
    far = (across >= TEXTURE_TRAVEL * max(a.x1 - a.x0, b.x1 - b.x0)
           or down >= TEXTURE_TRAVEL * max(a.y1 - a.y0, b.y1 - b.y0))
    return far and _along_a_line(track, STRAIGHT)


def _along_a_line(track: _Track, share: float) -> bool:
    """Is the blob's centre as far from where it was first seen as `share` of the way it travelled?"""
    return _centre_distance(track.origin, track.blob) >= share * track.travel


def _travelled(track: _Track, sizes: float) -> bool:
    """Has the blob travelled this many times its size from where it was first seen?"""
    return _centre_distance(track.origin, track.blob) >= sizes * max(track.origin.size, track.blob.size)


def _centre_distance(a: Blob, b: Blob) -> float:
    """How far the centre of `a`'s box is from `b`'s, along the axis where it is farther (centres are
    half the sum of the edges)."""
    return max(abs(b.x0 + b.x1 - a.x0 - a.x1), abs(b.y0 + b.y1 - a.y0 - a.y1)) / 2
