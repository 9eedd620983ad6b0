"""What moves in place: per-pixel variability of the picture, and the thresholds it raises.

Rain on a wet road, water, leaves and awnings in the wind keep the background moving where they are. Each
pixel keeps a running median of |frame - recent frames| (a sigma-delta estimate: a level up when the change
is above it, a level down when below, every EVERY ticks): about 2 levels a second where the background keeps
moving, so it adapts within seconds, and it stays low where the background is still. The boxes of the blobs
being tracked are left out, so that people and vehicles, even a group walking along a path, are no
background; sparse rain streaks, at a pixel in a few frames of a hundred, do not move a median at all (they
are the region stage's: `detect.regions`, `detect.particles`). It is the change from the recent frames
that is measured, not the difference from the background: the background is what has not moved for a
while, and something arriving and lingering would raise its own threshold.

A coded stream (H.264) holds moving texture still in most frames and updates it in bursts: a tree's pixel
does not change at all in half its frames, and the median of single changes stays at nothing there. So a
second stack keeps a running lower third (a level up every other step, a level down at every step) of the
mean change over the EVERY ticks between two steps: bursts that come back in most such windows raise it,
where a rain streak, there in a window now and then, does not (its mean change is high in few windows). A
pixel's variability is the higher of the two.

After a switch to infrared the picture's texture is another (leaves and water lit by the lamp, differing from
the background rebuilt at the switch by more than the colour variability allows), so the settle's frames (no motion
is looked for in them) raise the variability to their change, and for RELEARN_SECONDS after both stacks follow each
frame's change a level a frame, except where the change is large (a person) or in the boxes of the tracks there
were at the switch, widened (the bank's), or of the tracks since.

A pixel's threshold is then the camera's noise threshold, or VARIABILITY_FACTOR times the highest variability
around it (5x5: a swaying edge reaches beyond where it was last seen) less NOISE_OFFSET times the noise
threshold, whichever is higher. Everything is whole-stack: a few uint8 passes every EVERY ticks, and the
change summed every tick.
"""

from __future__ import annotations

from collections.abc import Iterable

import cv2
import numpy as np

from detect.stack_ops import dilated
from detect.workspace import Workspace

VARIABILITY_FACTOR = 6  # threshold = this x the running median of the change around the pixel ...
NOISE_OFFSET = 3  # ... less this x the noise threshold (sensor noise alone has a median change of a quarter of it)
CEILING = 96  # no texture hides more than this difference (levels): something that bright or dark is no leaf flutter
EVERY = 8  # the median takes a step every this many ticks (about 2 levels a second at 15 fps: a person passing a
# pixel raises it a level or two, not five) ...
WARMING_STEP = 4  # ... and this many levels at every frame while a camera's first pictures come in
WARMING_FRAMES = 15
RELEARN_SECONDS = 1.0  # after a switch to infrared, the variability is relearnt this long (once the settle is over)
RELEARN_STEP = 1  # ... this many levels a frame ...
RELEARN_CAP = 1.5  # ... where the change is at most this x the noise threshold
SEED_MAX = 15  # in the settle before it, the change raises the variability to at most this (levels): what the
# relearning, a level a frame, takes back down within its second at 15 fps where nothing moves
AROUND = np.ones((5, 5), np.uint8)  # a texture's threshold reaches two pixels beyond where it was seen moving


def warming(frames: np.ndarray, per_frame: np.ndarray) -> np.ndarray:
    """Is each camera still in its first WARMING_FRAMES frames at the tuned frame rate (`frames` seen, each
    `per_frame` frames at that rate: `detect.regions.frame_steps`)? A second either way."""
    result: np.ndarray = frames * per_frame < WARMING_FRAMES
    return result


def step_sizes(ticks: int, warm: np.ndarray) -> np.ndarray:
    """How far each camera's median may move at this tick (the bank's `ticks`-th), whether it is warming (`warm`,
    from `warming`). Only the warming is timed in seconds: scaling the steps too (as many levels a second at
    7.5 fps as at 15) made the median learn the people on a busy path (day recall 0.83 at 7.5 fps)."""
    result: np.ndarray = np.where(warm, WARMING_STEP, int(ticks % EVERY == 0))
    return result


def rises(ticks: int, warm: np.ndarray, steps: np.ndarray) -> np.ndarray:
    """The steps up of the bursts' stack (its lower third): every other step, and every step while warming."""
    result: np.ndarray = np.where(warm | (ticks // EVERY % 2 == 0), steps, 0)
    return result


def mean_change(gathered: np.ndarray, counted: np.ndarray, rows: np.ndarray, out: np.ndarray) -> None:
    """Into rows `rows` of `out` ((n, H, W) uint8), the mean change of those rows of `gathered` (the uint16 sums
    of `counted[k]` frames' change)."""
    counts = counted[rows]
    if len(rows) == len(out) and (counts == counts[0]).all():  # the usual tick: one call
        width = out.shape[-1]
        cv2.convertScaleAbs(gathered.reshape(-1, width), dst=out.reshape(-1, width), alpha=1.0 / int(counts[0]))
        return
    for row, count in zip(rows.tolist(), counts.tolist(), strict=True):
        cv2.convertScaleAbs(gathered[row], dst=out[row], alpha=1.0 / count)


def update(variability: np.ndarray, change: np.ndarray, steps: np.ndarray,
           objects: Iterable[tuple[int, int, int, int, int]], space: Workspace, ups: np.ndarray | None = None) -> None:
    """One sigma-delta step of each pixel's median towards this frame's `change` ((n, H, W) uint8 stacks,
    `variability` updated in place) of `steps[k]` levels for camera k (0: not this frame; `ups[k]` levels up
    instead where given: a lower quantile), except inside the boxes of `objects` ((camera, x0, y0, x1, y1)):
    people and vehicles are not the background."""
    ups = steps if ups is None else ups
    count, height, width = variability.shape
    flat = (count * height, width)
    up = cv2.compare(change.reshape(flat), variability.reshape(flat), cv2.CMP_GT,
                     dst=space.array("variability up", flat))
    down = cv2.compare(change.reshape(flat), variability.reshape(flat), cv2.CMP_LT,
                       dst=space.array("variability down", flat))
    up3, down3 = up.reshape(variability.shape), down.reshape(variability.shape)
    for k, x0, y0, x1, y1 in objects:
        up3[k, y0:y1, x0:x1] = down3[k, y0:y1, x0:x1] = 0
    if (steps == steps[0]).all() and (ups == ups[0]).all():
        _step(variability.reshape(flat), up, down, int(ups[0]), int(steps[0]))
        return
    for row in np.flatnonzero(steps).tolist():  # some cameras warming, or only they update: a few rows
        _step(variability[row], up3[row], down3[row], int(ups[row]), int(steps[row]))


def _step(variability: np.ndarray, up: np.ndarray, down: np.ndarray, rise: int, fall: int) -> None:
    if rise:
        cv2.add(variability, np.array([float(rise)]), dst=variability, mask=up)
    cv2.subtract(variability, np.array([float(fall)]), dst=variability, mask=down)


def relearn(stacks: Iterable[np.ndarray], change: np.ndarray, noise: np.ndarray, rows: Iterable[int],
            objects: Iterable[tuple[int, int, int, int, int]]) -> None:
    """RELEARN_STEP levels of each of `stacks` ((n, H, W) uint8) towards this frame's `change` in `rows` (the
    cameras just switched to infrared), only where the change is at most RELEARN_CAP x the `noise` threshold (a
    person coming into the picture meanwhile, not a track yet, changes it by more than the leaves do) and not in
    the boxes of `objects` ((row, x0, y0, x1, y1)). A row at a time: a camera switches a few times a day."""
    boxes = list(objects)
    for row in rows:
        mask = _outside(cv2.compare(change[row], cv2.convertScaleAbs(noise[row], alpha=RELEARN_CAP), cv2.CMP_LE),
                        row, boxes)
        for stack in stacks:
            up = cv2.bitwise_and(cv2.compare(change[row], stack[row], cv2.CMP_GT), mask)
            down = cv2.bitwise_and(cv2.compare(change[row], stack[row], cv2.CMP_LT), mask)
            _step(stack[row], up, down, RELEARN_STEP, RELEARN_STEP)


def seed(variability: np.ndarray, change: np.ndarray, rows: Iterable[int],
         objects: Iterable[tuple[int, int, int, int, int]]) -> None:
    """Raise `variability` ((n, H, W) uint8) to this frame's `change` in `rows` (cameras in the settle after a switch
    to infrared: no motion is looked for yet), at most SEED_MAX, except in the boxes of `objects` ((row, x0, y0, x1,
    y1): the people there at the switch).

    The relearning that follows the settle steps a level a frame, and only where the change is small: leaves lit by
    the lamp flicker by more, and were a blob changing in every frame, confirmed in the third frame after the settle
    (the corpus' dusk clips on three of four draws of the wind). What the settle saw is what texture is there. The
    cap is a fixed level, not a multiple of the noise threshold: a lamp still coming up over the settle's frames
    changes what it lights by tens of levels a frame, the noise measured meanwhile with it, and a seed of 56 left
    the lit half of the picture under thresholds of 96 for 20 s after the relearning."""
    boxes = list(objects)
    for row in rows:
        cv2.max(variability[row], _outside(np.minimum(change[row], SEED_MAX), row, boxes), dst=variability[row])


def _outside(plane: np.ndarray, row: int, objects: list[tuple[int, int, int, int, int]]) -> np.ndarray:
    """`plane` (camera `row`'s, a new array) zeroed in the boxes of `objects` ((row, x0, y0, x1, y1)) of that camera."""
    for k, x0, y0, x1, y1 in objects:
        if k == row:
            plane[y0:y1, x0:x1] = 0
    return plane


def combined(median: np.ndarray, bursts: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
    """A pixel's variability: the higher of its two stacks (same-shape uint8 arrays; into `out` if given)."""
    higher: np.ndarray = cv2.max(median, bursts) if out is None else cv2.max(median, bursts, dst=out)
    return higher


def thresholds(noise: np.ndarray, variability: np.ndarray, out: np.ndarray, height: int) -> np.ndarray:
    """Per pixel, the higher of the `noise` threshold and VARIABILITY_FACTOR x the variability around it less
    NOISE_OFFSET x the noise threshold, into `out` (all 2-D views of the same shape, cameras' rows one after the
    other, `height` rows each)."""
    dilated(variability, AROUND, height, dst=out)
    cv2.addWeighted(out, VARIABILITY_FACTOR, noise, -NOISE_OFFSET, 0.0, dst=out)  # saturated to 0..255
    np.minimum(out, CEILING, out=out)
    return cv2.max(noise, out, dst=out)
