"""The detector bank: motion, IR-night and tamper detection for all cameras at once.

Ingest threads `submit` each decoded frame's Y plane (and a look at its chroma); the frame is box-
averaged to the work size at once into the camera's row of one (cameras, H, W) stack, keeping only the
newest frame per camera. `tick` then processes every camera with a new frame in one pass of
whole-stack calls (`detect.background`), and keeps each camera's timing, mode and upkeep state as
columns of arrays (`detect.camera_table`), so that a quiet camera costs no Python of its own:

1. gain: the median ratio frame/background at a grid of points, applied to the background (lights,
   exposure, clouds stop being differences; objects stay differences);
2. |frame - background| > per-pixel threshold (the camera's temporal noise times a sensitivity
   factor; 255 where masked), counted per camera;
3. background update with the still pixels (`cv2.accumulateWeighted`, rate per camera from its
   frame rate, faster right after a rebuild).

Only cameras whose counts say something may move go through blob extraction and tracking
(`detect.regions`); cameras whose picture changed almost everywhere are checked for a lighting change
(view still matches: rebuild the background, no alert). Twice a second per camera, upkeep re-estimates
its noise and runs the tamper checks (`detect.tamper`), for all the cameras due in one go.

Where confirmed blobs moved is also kept as a coarse grid per camera and wall-clock second
(`detect.motion_grid`), the index of motion search; `motion_seconds` hands over the finished seconds.
"""

from __future__ import annotations

import math
import threading
from collections import deque
from dataclasses import dataclass, field
from functools import cache, partial

import cv2
import numpy as np

from detect.background import BLACK, GAIN_JUMP, SQUARE, apply_gain, count_per_camera, gains, neighbour_pairs
from detect.camera_table import CameraTable
from detect.frames import IR_COLOURFULNESS, colourfulness, reduce_luma, sample_chroma
from detect.masks import watched
from detect.motion_grid import MotionGrid, MotionSecond
from detect.observation import Box, Observation
from detect.overlay import OverlayLearner
from detect.particles import KNOWN as SPECKLE_KNOWN
from detect.particles import RATE as SPECKLE_RATE
from detect.particles import raining, speckle, specks_removed, without_specks
from detect.regions import CROSS, Blob, Tracker, changed_enough, find_blobs, frame_steps, frames_needed, is_soft
from detect.settings import BankSettings, CameraDetectSettings
from detect.shake import above_edges, jolted, moved_back, out_of_reach, shifts, thin_line
from detect.stack_ops import dilated
from detect.steady_clock import SteadyClock, steadied
from detect.tamper import TamperWatch, check_all, coarse_regions, matching
from detect.texture import in_strong_texture, not_an_object
from detect.variability import RELEARN_SECONDS, combined, mean_change, relearn, rises, seed, step_sizes, warming
from detect.variability import thresholds as raised
from detect.variability import update as update_variability
from detect.workspace import Workspace

GAIN_EPSILON = 0.003  # smaller gain changes are left to the background update
GLOBAL_FRACTION = 0.35  # more of the watched picture than this changed (or JUMP_FRACTION, right
JUMP_FRACTION = 0.03  # after a gain jump, where clipping defeats the gain model): a global change ...
LIGHTING_MATCHING = 0.75  # ... caused by lighting if this much of the view still matches
SCENE_CHANGE_SECONDS = 3.0  # a global change that is not lighting is rebuilt after this long
RECENT_RATE = 0.25  # the recent frames' average follows each new frame at this rate (lags 3-4 frames)
STALL_GAP = 2  # a gap between two frames counts as this many frame intervals at most towards the frame rate (a stall
# nudges it by a tenth, within what `regions.frames_needed` takes for the same rate)
BLOB_FRACTION = 0.35  # a blob needs this fraction of min_object_size in foreground pixels
NOISE_FACTOR = (5.0, 1.0)  # threshold = factor x noise: factor at sensitivity 0 and at 1
THRESHOLD_FLOOR = (4, 5)  # minimum threshold, colour and IR (8-bit levels at work resolution)
THRESHOLD_CEILING = 60
MAX_LEARNING_LEVEL = 12  # background rate 2**-level
SHAKE_CHANGED = 0.05  # a camera whose last frame differed from its background this much (share of the watched
SHAKE_MOVING = 2.0  # picture), or whose variability is this high on average (a shake it has learnt), is measured
SHAKE_MOVING_NOISE = 1.5  # ... and this many times its noise (a still, noisy picture learns about 0.9 of its noise)
JOLT_FRACTION = 0.1  # a shaken camera whose picture changed this much (share of the watched picture) is jolted
KEPT_MARGIN = 1.5  # the tracks' boxes at a switch to IR, widened by this x their size on each side (people walk
# on while the variability is relearnt), are left out of the relearning
SHAKE_SECONDS = 2.0  # for shake, and then for this long after it last shook
GHOST_FRAMES = 45  # a camera's first frames, in which what the first frame held and has gone is learnt (_ghosts) ...
GHOST_RATE = 0.25  # ... at this rate a frame
MAX_MOTION_SECONDS = 100_000  # finished seconds kept for `motion_seconds` (a bank nobody asks keeps no more)


@dataclass
class _Camera:
    """What does not fit the table's columns: a camera's name, settings, masks and learners."""

    name: str
    settings: CameraDetectSettings
    slot: int
    watched: np.ndarray  # bool (H, W)
    overlay: OverlayLearner | None
    tamper: TamperWatch
    tracker: Tracker
    kept: list[tuple[int, int, int, int]] = field(default_factory=list)  # left out of relearning (KEPT_MARGIN)

    def blocked(self) -> np.ndarray:
        """Pixels never to detect in: outside zones, masks, explicit or learnt overlay."""
        hidden: np.ndarray = ~self.watched if self.overlay is None else ~self.watched | self.overlay.mask
        return hidden


@dataclass
class _Tick:
    """The cameras with a new frame at one tick (index k: `slots[k]`, `cameras[k]`), and what it led to."""

    slots: np.ndarray
    cameras: list[_Camera]
    whole: bool  # every camera of the bank, slots 0..n-1 in order
    t: np.ndarray  # the frames' times on the cameras' bank clocks (`DetectorBank._times`) ...
    wall: np.ndarray  # ... and on the station's clock, as submitted: what is reported
    frames: np.ndarray  # (n, H, W) uint8 copies of the submitted frames (a workspace array: this tick only)
    chroma: np.ndarray
    has_chroma: np.ndarray
    jumped: np.ndarray = field(init=False)  # the gain jumped (light switch)
    reset: np.ndarray = field(init=False)  # the background is rebuilt from this frame
    mode_changed: np.ndarray = field(init=False)
    global_change: np.ndarray = field(init=False)  # no motion reported for this frame
    upkeep: np.ndarray = field(init=False)  # noise and tamper upkeep ran
    overlay_grew: np.ndarray = field(init=False)
    scores: list[float] = field(init=False)
    boxes: list[tuple[Box, ...]] = field(init=False)
    objects: list[tuple[int, Blob]] = field(default_factory=list)  # (k, blob) of every track's blob
    offsets: np.ndarray = field(init=False)  # (x, y) the frame was moved back by (shake), pixels at work size
    steps: np.ndarray = field(init=False)  # frames at the tuned frame rate since the last (`regions.frame_steps`)
    warming: np.ndarray = field(init=False)  # in the camera's first second (`variability.warming`)
    shaking: np.ndarray = field(init=False)  # its picture shook lately, or jolted now (`detect.shake`)
    moving: dict[int, list[Blob]] = field(default_factory=dict)  # the confirmed blobs of the cameras with some

    def __post_init__(self) -> None:
        count = len(self.slots)
        self.overlay_grew = np.zeros(count, bool)
        self.scores = [0.0] * count
        self.boxes = [()] * count
        self.offsets = np.zeros((count, 2))


class DetectorBank:
    """All cameras' detectors; `submit` from any thread, `tick` from one detection thread."""

    def __init__(self, settings: BankSettings | None = None) -> None:
        # OpenCV's own worker threads cost more than they save on pictures this small (measured: the bank
        # took 40 % more CPU with them); the parallelism is the ingest threads'
        cv2.setNumThreads(1)
        self.settings = settings or BankSettings()
        self._cameras: dict[str, _Camera] = {}
        self._slots: list[_Camera] = []
        self._pending_lock = threading.Lock()  # submit vs the tick's snapshot
        self._state_lock = threading.Lock()  # tick vs add/remove
        self._steady_now = SteadyClock()  # `now`, for video loss
        self._table = CameraTable(self.settings.work_size, 8)
        self._workspace = Workspace()
        self._ticks = 0
        self._grid = MotionGrid(self.settings.work_size)
        self._finished: deque[MotionSecond] = deque(maxlen=MAX_MOTION_SECONDS)

    # ------------------------------------------------------------------ cameras

    def add_camera(self, name: str, settings: CameraDetectSettings) -> None:
        """Start watching `name` (replaces it, and forgets what was learnt, if it exists)."""
        with self._state_lock:
            if name in self._cameras:
                self._remove(name)
            size = self.settings.work_size
            camera = _Camera(name, settings, len(self._slots), watched(settings, size),
                             OverlayLearner(size) if settings.overlay == "auto" else None,
                             TamperWatch(self.settings.reference_seconds), Tracker(size))
            width, height = size
            table = self._table
            with self._pending_lock:
                if camera.slot == table.capacity:
                    table.resize(2 * camera.slot)
                table.clear(camera.slot)
                table.min_pixels[camera.slot] = max(3, round(BLOB_FRACTION * settings.min_object_size * width * height))
                table.watched_pixels[camera.slot] = max(1, int(camera.watched.sum()))
                table.level[camera.slot] = settings.level
                table.period[camera.slot] = 1 / settings.analysed_fps
                self._cameras[name] = camera
                self._slots.append(camera)

    def remove_camera(self, name: str) -> None:
        with self._state_lock:
            self._remove(name)

    def cameras(self) -> list[str]:
        return list(self._cameras)

    def motion_seconds(self) -> list[MotionSecond]:
        """The seconds with motion finished since the last call: a camera's second is finished by its first
        frame of a later second (or by `finish_seconds`, or by its removal)."""
        with self._state_lock:
            finished = list(self._finished)
            self._finished.clear()
        return finished

    def finish_seconds(self) -> None:
        """Finish every camera's second in progress (at shutdown, at the end of a file)."""
        with self._state_lock:
            self._finish(np.arange(len(self._slots)))

    # ------------------------------------------------------------------ frames in

    def submit(self, name: str, y: np.ndarray, chroma: tuple[np.ndarray, np.ndarray] | None, t: float) -> None:
        """Hand over a frame (any thread): a uint8 Y plane (views welcome), subsampled U and V or None.

        The frame is reduced at once (the caller may reuse its buffers); an older frame of the same
        camera still waiting for `tick` is replaced. Unknown cameras are ignored.
        """
        camera = self._cameras.get(name)
        if camera is None:
            return
        work = reduce_luma(y, self.settings.work_size)
        table = self._table
        with self._pending_lock:
            if self._cameras.get(name) is not camera:
                return
            slot = camera.slot
            table.frame[slot] = work
            table.pending_t[slot] = t
            table.has_chroma[slot] = chroma is not None
            if chroma is not None:
                sample_chroma(chroma, table.chroma[slot])
            table.pending[slot] = True

    # ------------------------------------------------------------------ processing

    def tick(self, now: float) -> list[Observation]:
        """Process every camera with a new frame; one Observation each, plus one per silent camera.

        `now` (wall-clock seconds, the frames' clock) finds a camera with no frames for `video_loss_seconds`
        (reported as `video_loss`, at its last frame's time).
        """
        table = self._table
        with self._state_lock:
            with self._pending_lock:
                count = len(self._slots)
                slots = np.flatnonzero(table.pending[:count])
                wall = table.pending_t[slots]
                cameras = [self._slots[i] for i in slots]
                frames = self._workspace.take_rows("frames", table.frame, slots)
                chroma, has_chroma = table.chroma[slots], table.has_chroma[slots]
                table.pending[slots] = False
            # the cameras' clocks are the tick thread's alone: worked out once submit() may go on
            tick = _Tick(slots, cameras, len(slots) == count, self._times(slots, wall), wall, frames, chroma,
                         has_chroma)
            observations = self._process(tick) if len(slots) else []
            # video loss is judged on `now` made steady: frames and `now` may follow a step of the station's clock at
            # different moments (a camera's frames once it reconnects), and against the frames' times a camera that
            # stopped after a step back was not lost for as long as the step
            steady = self._steady_now(now)
            table.last_seen[slots] = steady
            observations += self._silent(steady)
        return observations

    def _times(self, slots: np.ndarray, wall: np.ndarray) -> np.ndarray:
        """The cameras' frame times on their bank clocks, which never go back.

        Frames are stamped on the station's clock (`design/time.md`), which NTP may step back (a clock that ran
        ahead, set right). Every timer of a camera (its settle after a start or a mode switch, its next upkeep with
        the noise, rain and tamper checks, its shake and relearning spans) is an absolute time; a step back of an
        hour held them all for that hour, and no motion was reported meanwhile. A camera's bank clock goes on from
        its last frame instead (`detect.steady_clock`: a frame earlier than the last lands on it, no gap, which the
        frame interval ignores); what it reports (observations, the motion index) keeps the wall-clock times."""
        table = self._table
        t, shift = steadied(wall, table.clock_shift[slots], table.last_t[slots])
        table.clock_shift[slots] = shift
        return t

    def _process(self, tick: _Tick) -> list[Observation]:
        table, frames, space = self._table, tick.frames, self._workspace
        count = len(tick.slots)
        width, height = self.settings.work_size
        flat = (count * height, width)
        background, background8 = self._rows("background", tick), self._rows("background8", tick)
        recent, noise_thresholds = self._rows("recent", tick), self._rows("threshold_map", tick)
        self._steady(tick, background, background8)
        rainy, without_specks = self._particles(tick, background8)
        variability, previous = self._rows("variability", tick), self._rows("last_foreground", tick)
        thresholds = self._rows("limits", tick)  # the noise thresholds, raised where the background moves
        frame_gains = gains(frames, background)
        for k in np.flatnonzero(np.abs(frame_gains - 1.0) > GAIN_EPSILON):
            apply_gain(background[k], frames[k], float(frame_gains[k]))
            # the recent frames too: a light ramp is no change in place (they lag it by 3-4 frames)
            gain = float(frame_gains[k])
            cv2.addWeighted(recent[k], gain, recent[k], 0.0, BLACK * (1.0 - gain), dst=recent[k])
            cv2.convertScaleAbs(background[k], dst=background8[k])
        tick.jumped = np.abs(frame_gains - 1.0) > GAIN_JUMP
        difference = cv2.absdiff(frames.reshape(flat), background8.reshape(flat), dst=space.array("difference", flat))
        if len(rainy):
            specks_removed(difference.reshape(frames.shape), without_specks, background8, rainy, space)
        shaken = np.flatnonzero(tick.t < table.shaken_until[tick.slots])
        if len(shaken):  # what the frame moved back is off by (detect.shake) is no difference
            self._within_reach(frames, background8, difference.reshape(frames.shape), shaken)
        foreground = cv2.compare(difference, thresholds.reshape(flat), cv2.CMP_GT, dst=space.array("foreground", flat))
        # compared now, while `difference` is still in cache
        still = cv2.compare(difference, thresholds.reshape(flat), cv2.CMP_LE, dst=space.array("still", flat))
        counts = count_per_camera(foreground, count)
        table.changed[tick.slots] = counts / table.watched_pixels[tick.slots]
        # blobs are made of what was foreground in the last frame too, or next to it: a rain streak is there in one
        # frame only
        lasting = dilated(previous.reshape(flat), CROSS, height, dst=space.array("lasting", flat))
        tick.steps = frame_steps(table.interval[tick.slots])
        for steps in sorted(set(tick.steps[tick.steps > 1].tolist())):  # a lower frame rate: objects move farther
            self._dilated_rows(lasting.reshape(frames.shape), previous, np.flatnonzero(tick.steps == steps),
                               _cross(steps), "slower")
        if len(shaken):  # each frame moved back is off by its own fraction of a pixel, diagonally too
            self._dilated_rows(lasting.reshape(frames.shape), previous, shaken, SQUARE, "shaken")
        cv2.bitwise_and(foreground, lasting, dst=lasting)
        np.copyto(previous.reshape(flat), foreground)

        self._advance(tick, counts, background8)
        self._upkeep(tick, background, difference.reshape(frames.shape))
        foreground3, lasting3 = foreground.reshape(frames.shape), lasting.reshape(frames.shape)
        # cameras with tracks go on anyway; those in a global change do not at all (_advance cleared their tracks)
        may_move = np.fromiter((camera.tracker.active for camera in tick.cameras), bool, count)
        min_pixels = table.min_pixels[tick.slots]
        undecided = np.flatnonzero(~may_move & ~tick.global_change & (counts >= min_pixels))
        if len(undecided):
            stack = lasting3 if len(undecided) == count else space.take_rows("undecided", lasting3, undecided)
            may_move[undecided] = neighbour_pairs(stack, space) >= min_pixels[undecided]
        if may_move.any():
            self._regions(tick, background, recent, noise_thresholds,
                          difference.reshape(frames.shape), foreground3, lasting3, thresholds, may_move)
        self._index_motion(tick, foreground3)

        self._ticks += 1
        change = self._learn_variability(tick, rainy, without_specks, recent, variability, noise_thresholds,
                                         thresholds, shaken)
        self._ghosts(tick, difference.reshape(frames.shape), change, noise_thresholds, background)
        levels = self._learning_levels(tick.slots)
        for level in sorted(set(levels.tolist())):
            selected = levels == level
            mask = still if selected.all() else np.multiply(still.reshape(frames.shape), selected[:, None, None],
                                                            out=space.array("mask", frames.shape)).reshape(flat)
            cv2.accumulateWeighted(frames.reshape(flat), background.reshape(flat), 2.0 ** -level, mask=mask)
        background[tick.reset] = frames[tick.reset]  # rebuilt from this frame (_advance cleared their trackers)
        absorb = self.settings.housekeeping_seconds / self.settings.absorb_seconds
        for k in np.flatnonzero(tick.upkeep & ~tick.reset):  # what stopped moving becomes background, slowly
            cv2.accumulateWeighted(frames[k], background[k], absorb, mask=foreground3[k])
        cv2.convertScaleAbs(background.reshape(flat), dst=background8.reshape(flat))
        cv2.addWeighted(frames.reshape(flat), RECENT_RATE, recent.reshape(flat), 1.0 - RECENT_RATE, 0.0,
                        dst=recent.reshape(flat))
        restart = np.flatnonzero(tick.reset | tick.jumped)
        recent[restart] = frames[restart]
        if not tick.whole:
            table.background[tick.slots], table.background8[tick.slots] = background, background8
            table.recent[tick.slots] = recent
            table.variability[tick.slots], table.last_foreground[tick.slots] = variability, previous
            table.limits[tick.slots] = thresholds
        self._refresh_thresholds(tick)
        return self._observations(tick)

    def _dilated_rows(self, lasting: np.ndarray, previous: np.ndarray, rows: np.ndarray, kernel: np.ndarray,
                      name: str) -> None:
        """Rows `rows` of the (n, H, W) `lasting` foreground made again from the last frame's (`previous`), dilated
        by `kernel` instead of CROSS, in place."""
        count, height, width = len(rows), previous.shape[1], previous.shape[2]
        picked = self._workspace.take_rows(f"{name} foreground", previous, rows)
        lasting[rows] = dilated(picked.reshape(count * height, width), kernel, height).reshape(count, height, width)

    def _learn_variability(self, tick: _Tick, rainy: np.ndarray, without_specks: np.ndarray, recent: np.ndarray,
                           variability: np.ndarray, noise_thresholds: np.ndarray, thresholds: np.ndarray,
                           shaken: np.ndarray) -> np.ndarray:
        """`detect.variability`: the change since the recent frames (without the specks where it rains, and
        without what a shake leaves for the `shaken` cameras) summed at
        every tick; every few ticks, that change and the mean of the sum move the two running quantiles, and the
        higher of them raises the thresholds. Returns that change, (n, H, W), a workspace array."""
        table, space, frames = self._table, self._workspace, tick.frames
        count = len(tick.slots)
        flat = (count * frames.shape[1], frames.shape[2])
        steps = step_sizes(self._ticks, tick.warming)
        ups = rises(self._ticks, tick.warming, steps)
        table.seen[tick.slots] += 1
        fresh = cv2.absdiff(frames.reshape(flat), recent.reshape(flat), dst=space.array("fresh", flat))
        change = fresh.reshape(frames.shape)  # the same, a camera a row
        if len(rainy):
            specks_removed(change, without_specks, recent, rainy, space)
        if len(shaken):
            self._within_reach(frames, recent, change, shaken)
        gathered, bursts = self._rows("gathered", tick), self._rows("bursts", tick)
        cv2.add(gathered.reshape(flat), fresh, dst=gathered.reshape(flat), dtype=cv2.CV_16U)
        gathered_frames = table.gathered_frames[tick.slots] + 1
        stepped = np.flatnonzero(steps)
        # just switched to infrared: the settle's frames (after the switch's own) seed, the second after relearns
        after_switch, settled = tick.t < table.relearn_until[tick.slots], tick.t >= table.settle_until[tick.slots]
        seeding = np.flatnonzero(after_switch & ~settled & ~tick.reset)
        relearning = np.flatnonzero(after_switch & settled)
        objects = [(k, blob.x0, blob.y0, blob.x1, blob.y1) for k, blob in tick.objects]
        if len(stepped):
            means = space.array("mean change", frames.shape)
            mean_change(gathered, gathered_frames, stepped, means)
            gathered[stepped], gathered_frames[stepped] = 0, 0
            update_variability(variability, change, steps, objects, space)
            update_variability(bursts, means, steps, objects, space, ups)
        if len(seeding):
            seed(variability, change, seeding.tolist(), self._kept(tick, seeding))
        if len(relearning):
            relearn((variability, bursts), change, noise_thresholds, relearning.tolist(),
                    objects + self._kept(tick, relearning))
        if len(stepped) or len(relearning) or len(seeding):
            either = combined(variability.reshape(flat), bursts.reshape(flat), space.array("either", flat))
            raised(noise_thresholds.reshape(flat), either, thresholds.reshape(flat), frames.shape[1])
            table.moving[tick.slots] = cv2.reduce(either.reshape(count, -1), 1, cv2.REDUCE_AVG, dtype=cv2.CV_32F)[:, 0]
        table.gathered_frames[tick.slots] = gathered_frames
        if not tick.whole:
            table.gathered[tick.slots], table.bursts[tick.slots] = gathered, bursts
        return change

    def _ghosts(self, tick: _Tick, difference: np.ndarray, change: np.ndarray, noise_thresholds: np.ndarray,
                background: np.ndarray) -> None:
        """A camera's background is built from its first frame, and only still pixels are learnt: what that frame held
        and has gone (a flake right in front of the lens) stayed in it, differing from every frame after, until a
        track of it had been still for `regions.STILL_SECONDS`; flakes crossing it kept such a track changing (the
        corpus' snow held 7.8 s). In a camera's first GHOST_FRAMES, a pixel whose `difference` from the background
        has been over the noise threshold in every frame since the first and that is steady now (`change`, since the
        recent frames, within the noise) is learnt at GHOST_RATE a frame: gone within 2 s (what was tried on the way:
        `design/detection_weather.md`). Something that came later and stood is not learnt so: its pixels matched the
        background before it came. (The noise thresholds, not the raised ones: in the first frames the variability
        rises where the ghost's recent frames still lag.)"""
        table, frames = self._table, tick.frames
        seen = table.seen[tick.slots]
        for k in np.flatnonzero((seen > 1) & (seen <= GHOST_FRAMES)):  # the first frame has no thresholds yet
            unlearnt = table.unlearnt[tick.slots[k]]
            differs = cv2.compare(difference[k], noise_thresholds[k], cv2.CMP_GT)
            cv2.bitwise_and(unlearnt, differs, dst=unlearnt)
            ghost = cv2.bitwise_and(cv2.compare(change[k], noise_thresholds[k], cv2.CMP_LE), unlearnt)
            cv2.accumulateWeighted(frames[k], background[k], GHOST_RATE, mask=ghost)

    @staticmethod
    def _kept(tick: _Tick, rows: np.ndarray) -> list[tuple[int, int, int, int, int]]:
        """(k, x0, y0, x1, y1) of the boxes kept out of the variability's seed and relearning (people tracked at the
        switch to infrared) of each camera k in `rows`."""
        return [(k, *box) for k in rows.tolist() for box in tick.cameras[k].kept]

    def _steady(self, tick: _Tick, background: np.ndarray, background8: np.ndarray) -> None:
        """Camera shake (`detect.shake`): the frames of the cameras whose last frame changed much, or that shook
        lately, moved back onto their backgrounds."""
        table, slots = self._table, tick.slots
        learnt = np.fmax(SHAKE_MOVING, SHAKE_MOVING_NOISE * table.noise[slots])  # the noise is NaN until known
        measured = np.flatnonzero((table.changed[slots] > SHAKE_CHANGED) | (tick.t < table.shaken_until[slots])
                                   | (table.moving[slots] > learnt))
        if not len(measured):
            return
        space = self._workspace
        found = shifts(space.take_rows("shaken frames", tick.frames, measured),
                       space.take_rows("shaken backgrounds", background, measured))
        for k, shift in zip(measured[found.any(axis=1)].tolist(), found[found.any(axis=1)], strict=True):
            moved_back(tick.frames[k], background8[k], shift)
            tick.offsets[k] = shift
            table.shaken_until[slots[k]] = tick.t[k] + SHAKE_SECONDS

    def _within_reach(self, frames: np.ndarray, references: np.ndarray, differences: np.ndarray,
                      shaken: np.ndarray) -> None:
        """`differences` (from `references`) of the `shaken` cameras (indices into the tick) lowered by what the shake
        leaves (`detect.shake.out_of_reach`), in place."""
        if len(shaken) == len(frames):
            out_of_reach(frames, references, differences, self._workspace)
            return
        space = self._workspace
        picked = space.take_rows("reach differences", differences, shaken)
        out_of_reach(space.take_rows("reach frames", frames, shaken),
                     space.take_rows("reach references", references, shaken), picked, space)
        differences[shaken] = picked

    def _particles(self, tick: _Tick, background8: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Rain and snow (`detect.particles`): measured on the frames of the cameras whose upkeep is due; returns
        the cameras where it rains or snows (indices into the tick) and their frames without the specks."""
        table, space, slots = self._table, self._workspace, tick.slots
        due = np.flatnonzero((tick.t >= table.next_upkeep[slots]) & (table.seen[slots] > 0))  # a background to compare
        if len(due):
            whole = len(due) == len(slots)
            shaken = np.flatnonzero(tick.t[due] < table.shaken_until[slots[due]])
            references = background8 if whole and not len(shaken) else space.take_rows("due backgrounds",
                                                                                         background8, due)
            for i in shaken.tolist():  # what is left of a shake along edges is no rain
                references[i] = above_edges(references[i])
            measured = speckle(tick.frames if whole else space.take_rows("due frames", tick.frames, due), references,
                               space)
            table.speckle[slots[due]] += SPECKLE_RATE * (measured - table.speckle[slots[due]])
            table.speckle_measures[slots[due]] += 1
            table.raining[slots[due]] = raining(table.raining[slots[due]], table.speckle[slots[due]],
                                                table.noise[slots[due]])
        rainy = np.flatnonzero(table.raining[slots])
        return rainy, without_specks(space.take_rows("rainy frames", tick.frames, rainy)) if len(rainy) else tick.frames

    def _rows(self, column: str, tick: _Tick) -> np.ndarray:
        """The tick's rows of a table column: views when the tick has every camera, else a copy (see `_process`
        for the write-back)."""
        values: np.ndarray = getattr(self._table, column)
        return values[:len(tick.slots)] if tick.whole else self._workspace.take_rows(column, values, tick.slots)

    def _advance(self, tick: _Tick, counts: np.ndarray, background8: np.ndarray) -> None:
        """Timing, mode, global change and upkeep due of each camera at this frame (before any region work)."""
        table, slots, t, settings = self._table, tick.slots, tick.t, self.settings
        ir_frames = colourfulness(tick.chroma) < IR_COLOURFULNESS
        last_t, interval, is_ir = table.last_t[slots], table.interval[slots], table.is_ir[slots]
        first = last_t == -math.inf
        gap = t - last_t
        # a stall (the stream stopped for a while) is no frame rate: a gap counts as STALL_GAP intervals at most, so
        # that a stall nudges the estimate and a camera set to a slower rate is followed over some tens of frames
        step = np.minimum(gap, STALL_GAP * interval) - interval
        table.interval[slots] = np.where(~first & (gap > 0), np.where(np.isnan(interval), gap, interval + 0.1 * step),
                                         interval)
        table.last_t[slots], table.last_wall[slots] = t, tick.wall
        frame_ir = np.where(tick.has_chroma, ir_frames, is_ir)
        switched = ~first & (frame_ir != is_ir)  # the other mode: rebuild, learn its noise, go on
        reported = table.reported_ir[slots]
        tick.mode_changed = (~first & ~switched & (is_ir != reported)
                             & (t - table.mode_since[slots] >= settings.mode_confirm_seconds))
        starts = first | switched  # first frame: it is the background; no motion until the noise is known
        table.is_ir[slots] = frame_ir
        table.reported_ir[slots] = np.where(first | tick.mode_changed, frame_ir, reported)
        table.mode_since[slots] = np.where(switched, t, table.mode_since[slots])
        table.noise[slots] = np.where(switched, math.nan, table.noise[slots])
        table.settle_until[slots] = settle_until = np.where(starts, t + settings.settle_seconds,
                                                            table.settle_until[slots])
        tick.reset = starts
        tick.warming = warming(table.seen[slots], tick.steps)
        suppress = (t < settle_until) | tick.warming  # the variability is learnt meanwhile
        changed = counts / table.watched_pixels[slots]
        big = ((changed > GLOBAL_FRACTION) | (tick.jumped & (changed > JUMP_FRACTION))) & ~suppress
        big_since = table.big_since[slots]
        tick.shaking = shaking = t < table.shaken_until[slots]
        sudden = np.flatnonzero(big & ~shaking)
        if len(sudden):  # a jolt's first frame: not lighting
            space = self._workspace
            hit = sudden[jolted(space.take_rows("sudden frames", tick.frames, sudden),
                                space.take_rows("sudden backgrounds", background8, sudden))]
            shaking[hit] = True
            table.shaken_until[slots[hit]] = t[hit] + SHAKE_SECONDS
        # a jolt: the picture swings and blurs for a second; no motion, and no rebuild from it
        blurred = shaking & (big | ((changed > JOLT_FRACTION) & ~suppress))
        for k in np.flatnonzero(big):
            if not shaking[k] and matching(coarse_regions(background8[k]),
                                           coarse_regions(tick.frames[k])) >= LIGHTING_MATCHING:
                tick.reset[k] = True  # lighting: same view, other brightness pattern
            elif math.isnan(big_since[k]):
                big_since[k] = t[k]
            elif t[k] - big_since[k] >= SCENE_CHANGE_SECONDS:
                tick.reset[k] = True
        big_since[~big] = math.nan
        table.big_since[slots] = big_since
        tick.global_change = tick.reset | suppress | blurred
        to_ir = switched & frame_ir  # its texture is relearnt (`detect.variability.relearn`), not its people
        # back to colour: a relearning still due (a switch to infrared less than a second ago) is off
        table.relearn_until[slots] = np.where(to_ir, settle_until + RELEARN_SECONDS,
                                              np.where(switched, -math.inf, table.relearn_until[slots]))
        for k in np.flatnonzero(to_ir):
            tick.cameras[k].kept = [widened(blob, KEPT_MARGIN, self.settings.work_size)
                                    for blob in tick.cameras[k].tracker.blobs()]
        for k in np.flatnonzero(tick.global_change):
            tick.cameras[k].tracker.clear()
        table.since_reset[slots] = np.where(tick.reset, 0, table.since_reset[slots] + 1)
        next_upkeep = table.next_upkeep[slots]
        tick.upkeep = (t >= next_upkeep) | np.isnan(table.noise[slots])
        table.next_upkeep[slots] = np.where(tick.upkeep, t + settings.housekeeping_seconds, next_upkeep)

    def _upkeep(self, tick: _Tick, background: np.ndarray, difference: np.ndarray) -> None:
        """Noise estimate and tamper checks of the cameras due (all of them in one go), before region work. Where it
        rains or snows, the noise is that of the `difference` without the specks, which is what is compared with it
        (rain and snow, left in, raise it by half)."""
        table = self._table
        due = np.flatnonzero(tick.upkeep)
        if not len(due):
            return
        noisy = due[~tick.reset[due]]
        if len(noisy):  # the median |frame - background| on a sparse grid (robust to movers)
            deviation = np.where(table.raining[tick.slots[noisy], None, None], difference[noisy, 1::3, 2::4],
                                 np.abs(tick.frames[noisy, 1::3, 2::4] - background[noisy, 1::3, 2::4]))
            sigma = 1.4826 * np.median(deviation.reshape(len(noisy), -1), axis=1)
            noise = table.noise[tick.slots[noisy]]
            table.noise[tick.slots[noisy]] = np.where(np.isnan(noise), sigma, noise + 0.3 * (sigma - noise))
        checked = np.array([k for k in due if tick.cameras[k].settings.tamper], int)
        if len(checked):
            slots = tick.slots[checked]
            pictures = tick.frames if len(checked) == len(tick.slots) else self._workspace.take_rows(
                "tamper pictures", tick.frames, checked)
            check_all([tick.cameras[k].tamper for k in checked], pictures, table.is_ir[slots].tolist(),
                      self.settings.housekeeping_seconds)

    def _regions(self, tick: _Tick, background: np.ndarray, recent: np.ndarray, thresholds: np.ndarray,
                 difference: np.ndarray, foreground: np.ndarray, lasting: np.ndarray, limits: np.ndarray,
                 candidate: np.ndarray) -> None:
        """Blobs of the cameras that may see motion (`candidate`), in one stack, from the foreground that lasted
        two frames; then tracking per camera. Pixels differing from the recent frames by more than the noise
        `thresholds` are changing."""
        count, height, width = tick.frames.shape
        candidates = np.flatnonzero(candidate)
        space = self._workspace
        # when half the cameras or more are candidates, the passes run on the whole stack (the others left out of
        # the blob search) rather than on copies of the candidates' rows; since the workspace the two cost the
        # same (busy scene, 16 and 128 cameras), and either way each camera's rows are passed as if alone
        # (`detect.stack_ops`)
        whole = 2 * len(candidates) >= count
        members = np.arange(count) if whole else candidates  # the tick's cameras in the stacks below

        def picked(stack: np.ndarray, name: str) -> np.ndarray:
            return stack if whole else space.take_rows(f"candidates' {name}", stack, candidates)

        flat = (len(members) * height, width)
        changing = cv2.absdiff(picked(tick.frames, "frames").reshape(flat), picked(recent, "recent").reshape(flat),
                               dst=space.array("changing", flat))
        cv2.compare(changing, picked(thresholds, "thresholds").reshape(flat), cv2.CMP_GT, dst=changing)
        changing = changing.reshape(len(members), height, width)
        changing[tick.jumped[members]] = 0  # the light changed: differences from the recent frames mean nothing now
        table = self._table
        slots = tick.slots[members]
        found = find_blobs(picked(lasting, "lasting"), changing, table.min_pixels[slots], candidate[members], space)
        persist = np.where(table.is_ir[slots], self.settings.persist_seconds_ir, self.settings.persist_seconds)
        persist = np.where(table.raining[slots], np.maximum(persist, self.settings.persist_seconds_rain), persist)
        # until the rain is measured (a camera's first 3 s) a track lasts as long as at night at least: snow's clutter
        # made a blob at the picture's bottom edge that changed in 2 frames (the corpus' snow, its one alarm at 2.7 s)
        weather_unknown = table.speckle_measures[slots] < SPECKLE_KNOWN
        persist = np.where(weather_unknown, np.maximum(persist, self.settings.persist_seconds_ir), persist)
        needed = frames_needed(persist, table.interval[slots], table.period[slots])
        # the per-camera figures as Python values, once: the loop below runs for every candidate at every tick
        columns = zip(members.tolist(), found, slots.tolist(), tick.t[members].tolist(), table.is_ir[slots].tolist(),
                      table.raining[slots].tolist(), needed.tolist(), tick.steps[members].tolist(),
                      weather_unknown.tolist(), tick.shaking[members].tolist(), strict=True)
        for k, found_blobs, slot, t, is_ir, wet, frames_needed_now, steps, unknown, shaking in columns:
            camera = tick.cameras[k]
            # nothing to track (a third of a rainy night's cameras), as for those left out of the blob search (no blobs,
            # and no tracks, or they would be candidates)
            if not found_blobs and not camera.tracker.active:
                continue
            overlay, blobs = camera.overlay, found_blobs
            if shaking:  # what the shake leaves along an edge is no change
                blobs = [blob._replace(changing=0) if thin_line(blob) else blob for blob in blobs]
            if is_ir:  # insects and rain near the lens shine in the IR illuminator's light
                # softness only matters to a blob that changed enough to count: the others are not judged
                blobs = [blob._replace(soft=True) if changed_enough(blob) and is_soft(difference[k], tick.frames[k],
                                                                                       blob) else blob
                         for blob in blobs]
            moving, still = camera.tracker.update(blobs, t, frames_needed_now, overlay.suspect if overlay else _never,
                                                  partial(not_an_object, tick.frames[k], difference[k], background[k],
                                                          lasting[k], foreground[k], thresholds[k], limits[k], wet,
                                                          wet and not is_ir), wet,
                                                  partial(in_strong_texture, thresholds[k], limits[k]), steps, unknown)
            for blob in still:  # something stopped (or a residue crept in): make it background now
                area = (slice(blob.y0, blob.y1), slice(blob.x0, blob.x1))
                np.copyto(background[k][area], tick.frames[k][area], where=foreground[k][area] > 0)
            tick.overlay_grew[k] = overlay is not None and overlay.observe(blobs, t)
            tick.boxes[k] = tuple(_box(blob, self.settings.work_size, tick.offsets[k]) for blob in moving)
            tick.objects += [(int(k), blob) for blob in camera.tracker.blobs()]
            if moving:
                tick.moving[int(k)] = moving
                fraction = sum(blob.pixels for blob in moving) / int(table.watched_pixels[slot])
                tick.scores[k] = round(fraction / (fraction + camera.settings.min_object_size), 3)

    def _index_motion(self, tick: _Tick, foreground: np.ndarray) -> None:
        """OR the cells where this tick's cameras saw confirmed motion into their wall-clock second; a camera
        whose frame starts a new second finishes the one before."""
        table, slots = self._table, tick.slots
        seconds = np.floor(tick.wall).astype(np.int64)
        turned = seconds != table.grid_second[slots]
        if turned.any():
            self._finish(slots[turned])
            table.grid_second[slots] = seconds
        if not tick.moving:
            return
        movers = np.fromiter(tick.moving, int, len(tick.moving))
        stack = foreground if len(movers) == len(slots) else self._workspace.take_rows("movers' foreground",
                                                                                      foreground, movers)
        table.grid_cells[slots[movers]] |= self._grid.cells(stack, list(tick.moving.values()), self._workspace)

    def _finish(self, slots: np.ndarray) -> None:
        """Hand over the seconds in progress of these slots that saw motion, and clear them."""
        table = self._table
        moved = slots[table.grid_cells[slots].any(axis=1)]
        if not len(moved):
            return
        self._finished.extend(MotionSecond(self._slots[slot].name, second, cells.tobytes()) for slot, second, cells
                              in zip(moved.tolist(), table.grid_second[moved].tolist(), table.grid_cells[moved],
                                     strict=True))
        table.grid_cells[moved] = 0

    def _learning_levels(self, slots: np.ndarray) -> np.ndarray:
        """Background rate 2**-level per camera: about interval/background_seconds, faster after a rebuild."""
        interval = self._table.interval[slots]
        interval = np.where(np.isnan(interval), 1 / 15, np.maximum(interval, 1e-3))
        target = np.rint(np.log2(np.maximum(2.0, self.settings.background_seconds / interval)))
        warming = 1 + np.floor(np.log2(1 + self._table.since_reset[slots]))
        levels: np.ndarray = np.clip(np.minimum(target, warming), 1, MAX_LEARNING_LEVEL).astype(int)
        return levels

    def _refresh_thresholds(self, tick: _Tick) -> None:
        """The per-pixel thresholds of cameras whose noise was re-estimated (or whose overlay mask grew)."""
        table = self._table
        refresh = np.flatnonzero(tick.upkeep | tick.overlay_grew)
        if not len(refresh):
            return
        slots = tick.slots[refresh]
        low, high = NOISE_FACTOR
        is_ir = table.is_ir[slots]
        factor = low + (high - low) * table.level[slots]
        floor = np.where(is_ir, THRESHOLD_FLOOR[1], THRESHOLD_FLOOR[0])
        values = np.minimum(THRESHOLD_CEILING, np.maximum(floor, np.rint(factor * np.nan_to_num(table.noise[slots]))))
        for i in np.flatnonzero((values != table.threshold[slots]) | tick.overlay_grew[refresh]):
            slot = slots[i]
            table.threshold[slot] = values[i]
            table.threshold_map[slot] = values[i]
            table.threshold_map[slot][tick.cameras[refresh[i]].blocked()] = 255
            raised(table.threshold_map[slot], combined(table.variability[slot], table.bursts[slot]), table.limits[slot],
                   self.settings.work_size[1])

    def _observations(self, tick: _Tick) -> list[Observation]:
        observations = []
        table = self._table
        for camera, t, score, boxes, is_ir, mode_changed, global_change, wet, shaking in zip(
                tick.cameras, tick.wall.tolist(), tick.scores, tick.boxes, table.reported_ir[tick.slots].tolist(),
                tick.mode_changed.tolist(), tick.global_change.tolist(), table.raining[tick.slots].tolist(),
                tick.shaking.tolist(), strict=True):
            tamper = camera.tamper.signals  # as the latest check left them (never set with tamper off)
            observations.append(Observation(camera.name, t, score, boxes, is_ir, mode_changed, global_change,
                                            tamper.covered, tamper.moved, tamper.defocused, raining=wet,
                                            shaking=shaking))
        return observations

    # ------------------------------------------------------------------ silence, slots

    def _silent(self, now: float) -> list[Observation]:
        """Video loss: cameras whose picture stopped for video_loss_seconds (reported at their last frame's
        time). A camera that has not sent a picture yet is not lost but still connecting (a camera that
        cannot connect at all is reported offline by ingest, with the reason)."""
        seen = self._table.last_seen[:len(self._slots)]
        lost = np.flatnonzero((seen > -math.inf) & (now - seen >= self.settings.video_loss_seconds))
        return [Observation(self._slots[i].name, float(self._table.last_wall[i]),
                            is_ir=bool(self._table.reported_ir[i]), video_loss=True) for i in lost]

    def _remove(self, name: str) -> None:
        camera = self._cameras[name]
        self._finish(np.array([camera.slot]))
        with self._pending_lock:
            del self._cameras[name]
            last = self._slots.pop()
            if last is not camera:
                self._table.move(last.slot, camera.slot)
                last.slot = camera.slot
                self._slots[camera.slot] = last


@cache
def _cross(radius: int) -> np.ndarray:
    """A cross reaching `radius` pixels from its centre (made once per radius: it is asked for at every tick)."""
    kernel: np.ndarray = cv2.getStructuringElement(cv2.MORPH_CROSS, (2 * radius + 1, 2 * radius + 1))
    return kernel


def _never(_: Blob) -> bool:
    return False


def widened(blob: Blob, margin: float, size: tuple[int, int]) -> tuple[int, int, int, int]:
    """The blob's box (x0, y0, x1, y1) widened by `margin` x its width and height on each side, within the picture
    of `size` (width, height)."""
    dx, dy = math.ceil(margin * (blob.x1 - blob.x0)), math.ceil(margin * (blob.y1 - blob.y0))
    return max(0, blob.x0 - dx), max(0, blob.y0 - dy), min(size[0], blob.x1 + dx), min(size[1], blob.y1 + dy)


def _box(blob: Blob, size: tuple[int, int], offset: np.ndarray) -> Box:
    """The blob's box in the frame (normalized): the blob was found on the frame moved back by `offset` (shake)."""
    width, height = size
    x, y = (float(value) for value in offset)
    return (blob.x0 + x) / width, (blob.y0 + y) / height, (blob.x1 - blob.x0) / width, (blob.y1 - blob.y0) / height
