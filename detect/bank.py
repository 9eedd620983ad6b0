"""The detector bank: motion, IR-night and tamper detection for all cameras at once.

Ingest threads `submit` each decoded frame's Y plane (and a look at its chroma); the frame is box-
averaged to the work size at once (13 µs from 360p) into the camera's row of one (cameras, H, W)
stack, keeping only the newest frame per camera. `tick` then processes every camera with a new
frame in one pass of whole-stack OpenCV calls:

1. gain: the median ratio frame/background at a grid of points, applied to the background (lights,
   exposure, clouds stop being differences; objects stay differences);
2. |frame - background| > per-pixel threshold (the camera's temporal noise times a sensitivity
   factor; 255 where masked), counted per camera with one `cv2.reduce`;
3. background update with the still pixels (`cv2.accumulateWeighted`, rate per camera from its
   frame rate, faster right after a rebuild).

Only cameras whose count says something may move go through blob extraction and tracking
(`detect.regions`); cameras whose picture changed almost everywhere are checked for a lighting change
(view still matches: rebuild the background, no alert). A few times a second per camera, upkeep
re-estimates its noise and runs the tamper checks (`detect.tamper`).
"""

from __future__ import annotations

import math
import threading
from dataclasses import dataclass, field, replace

import cv2
import numpy as np

from detect.frames import CHROMA_GRID, IR_COLOURFULNESS, colourfulness, reduce_luma, sample_chroma
from detect.masks import watched
from detect.observation import Box, Observation
from detect.overlay import OverlayLearner
from detect.regions import Blob, Tracker, find_blobs, is_soft
from detect.settings import BankSettings, CameraDetectSettings
from detect.tamper import TamperSignals, TamperWatch, coarse_regions, matching, sharpness

BLACK = 16.0  # luma of black (BT.601 limited range); gain is applied around it
GAIN_STEP = 10  # gain is measured at every 10th pixel each way
GAIN_EPSILON = 0.003  # smaller gain changes are left to the background update
GAIN_JUMP = 0.04  # a gain change bigger than this in one frame is a switch: ...
CLIPPED = (BLACK + 4, 228.0)  # ... where the scaled background falls outside these, it is taken from the frame
NEIGHBOURS = np.ones((3, 3), np.uint8)  # ... and next to those
GLOBAL_FRACTION = 0.35  # more of the watched picture than this changed (or JUMP_FRACTION, right
JUMP_FRACTION = 0.03  # after a gain jump, where clipping defeats the gain model): a global change ...
LIGHTING_MATCHING = 0.75  # ... caused by lighting if this much of the view still matches
SCENE_CHANGE_SECONDS = 3.0  # a global change that is not lighting is rebuilt after this long
RECENT_RATE = 0.25  # the recent frames' average follows each new frame at this rate (lags 3-4 frames)
BLOB_FRACTION = 0.35  # a blob needs this fraction of min_object_size in foreground pixels
NOISE_FACTOR = (5.0, 1.0)  # threshold = factor x noise: factor at sensitivity 0 and at 1
IR_FACTOR = 0.0  # added to the factor in IR
THRESHOLD_FLOOR = (4, 5)  # minimum threshold, colour and IR (8-bit levels at work resolution)
THRESHOLD_CEILING = 60
MAX_LEARNING_LEVEL = 12  # background rate 2**-level


@dataclass
class _Camera:
    name: str
    settings: CameraDetectSettings
    slot: int
    watched: np.ndarray  # bool (H, W)
    overlay: OverlayLearner | None
    tamper: TamperWatch
    tracker: Tracker = field(default_factory=Tracker)
    interval: float = math.nan  # seconds between processed frames (smoothed)
    last_t: float = -math.inf  # time of the last processed frame
    is_ir: bool = False  # the mode of the frames: detection follows it at once
    reported_ir: bool = False  # the mode reported: is_ir once it has held mode_confirm_seconds
    mode_since: float = -math.inf  # is_ir has held since then
    settle_until: float = -math.inf
    since_reset: int = 0
    big_since: float | None = None
    noise: float = math.nan
    threshold: int = -1
    next_upkeep: float = -math.inf
    want_detail: bool = True
    detail_sharpness: float = math.nan
    watched_pixels: int = field(init=False)

    def __post_init__(self) -> None:
        self.watched_pixels = max(1, int(self.watched.sum()))

    @property
    def min_pixels(self) -> int:
        height, width = self.watched.shape
        return max(3, round(BLOB_FRACTION * self.settings.min_object_size * width * height))

    def may_move(self, count: int, clustered: int) -> bool:
        """Worth blob extraction: something is being tracked, or enough foreground, enough of it in clusters
        (see `_clustered_counts`), to make a blob."""
        return self.tracker.active or (count >= self.min_pixels and 2 * clustered >= self.min_pixels)

    def blocked(self) -> np.ndarray:
        """Pixels never to detect in: outside zones, masks, explicit or learnt overlay."""
        hidden: np.ndarray = ~self.watched if self.overlay is None else ~self.watched | self.overlay.mask
        return hidden


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
        self._clock = -math.inf  # newest frame time seen
        self._allocate(8)

    # ------------------------------------------------------------------ cameras

    def add_camera(self, name: str, settings: CameraDetectSettings) -> None:
        """Start watching `name` (replaces it, and forgets what was learnt, if it exists)."""
        with self._state_lock:
            if name in self._cameras:
                self._remove(name)
            size = self.settings.work_size
            camera = _Camera(name, settings, len(self._slots), watched(settings, size),
                             OverlayLearner(size) if settings.overlay == "auto" else None,
                             TamperWatch(self.settings.reference_seconds))
            with self._pending_lock:
                if camera.slot == len(self._pending):
                    self._allocate(2 * camera.slot)
                self._pending[camera.slot] = False
                self._cameras[name] = camera
                self._slots.append(camera)

    def remove_camera(self, name: str) -> None:
        with self._state_lock:
            self._remove(name)

    def cameras(self) -> list[str]:
        return list(self._cameras)

    # ------------------------------------------------------------------ frames in

    def submit(self, name: str, y: np.ndarray, chroma: tuple[np.ndarray, np.ndarray] | None, t: float) -> None:
        """Hand over a frame (any thread): a uint8 Y plane (views welcome), subsampled U and V or None.

        The frame is reduced at once (the caller may reuse its buffers); an older frame of the same
        camera still waiting for `tick` is replaced. Unknown cameras are ignored.
        """
        camera = self._cameras.get(name)
        if camera is None:
            return
        work, detail = reduce_luma(y, self.settings.work_size)
        detail_sharpness = math.nan
        if camera.want_detail:
            camera.want_detail = False
            detail_sharpness = sharpness(detail)
        samples = None
        if chroma is not None:
            samples = np.empty((2, *CHROMA_GRID), np.uint8)
            sample_chroma(chroma, samples)
        with self._pending_lock:
            if self._cameras.get(name) is not camera:
                return
            slot = camera.slot
            self._frames[slot] = work
            self._pending_t[slot] = t
            self._has_chroma[slot] = samples is not None
            if samples is not None:
                self._chroma[slot] = samples
            if not math.isnan(detail_sharpness):
                self._sharpness[slot] = detail_sharpness
            self._pending[slot] = True

    # ------------------------------------------------------------------ processing

    def tick(self, now: float | None = None) -> list[Observation]:
        """Process every camera with a new frame; one Observation each, plus one per silent camera.

        `now` (wall-clock seconds) lets a camera with no frames for `video_loss_seconds` be reported
        (`video_loss`, at its last frame's time); without it the newest frame time seen is used.
        """
        with self._state_lock:
            with self._pending_lock:
                count = len(self._slots)
                slots = np.flatnonzero(self._pending[:count])
                batch = _Batch(slots, [self._slots[i] for i in slots], self._frames[slots],
                               self._pending_t[slots].copy(), self._chroma[slots], self._has_chroma[slots].copy(),
                               self._sharpness[slots].copy())
                self._pending[slots] = False
                self._sharpness[slots] = math.nan
            observations = self._process(batch, whole=len(slots) == count) if len(slots) else []
            if len(slots):
                self._clock = max(self._clock, float(batch.t.max()))
            observations += self._silent(self._clock if now is None else now)
        return observations

    def _process(self, batch: _Batch, whole: bool) -> list[Observation]:
        size = len(batch.slots)
        width, height = self.settings.work_size
        flat = (size * height, width)
        state = _Arrays.take(self, batch.slots, whole)
        frames, background, background8 = batch.frames, state.background, state.background8
        gains = _gains(frames, background)
        for k in np.flatnonzero(np.abs(gains - 1.0) > GAIN_EPSILON):
            _apply_gain(background[k], frames[k], float(gains[k]))
            cv2.convertScaleAbs(background[k], dst=background8[k])
        difference = cv2.absdiff(frames.reshape(flat), background8.reshape(flat))
        foreground = cv2.compare(difference, state.thresholds.reshape(flat), cv2.CMP_GT).reshape(size, height, width)
        counts = cv2.reduce(foreground.reshape(size, -1), 1, cv2.REDUCE_SUM, dtype=cv2.CV_32S)[:, 0] // 255
        ir_frames = np.where(batch.has_chroma, colourfulness(batch.chroma) < IR_COLOURFULNESS, False)

        steps = []
        for k, camera in enumerate(batch.cameras):
            if not math.isnan(batch.sharpness[k]):
                camera.detail_sharpness = float(batch.sharpness[k])
            is_ir = bool(ir_frames[k]) if batch.has_chroma[k] else None
            jumped = abs(float(gains[k]) - 1.0) > GAIN_JUMP
            steps.append(self._step(camera, float(batch.t[k]), is_ir, int(counts[k]), jumped, frames[k],
                                    background[k], background8[k]))
        clustered = _clustered_counts(foreground.reshape(flat), size)
        candidates = [k for k, step in enumerate(steps)
                      if not step.global_change and batch.cameras[k].may_move(int(counts[k]), int(clustered[k]))]
        if candidates:
            self._regions(batch, state, difference.reshape(size, height, width), foreground, candidates, steps)

        levels = np.array([self._learning_level(camera) for camera in batch.cameras])
        still = cv2.bitwise_not(foreground)
        for level in np.unique(levels):
            selected = levels == level
            mask = still if selected.all() else still * selected[:, None, None].astype(np.uint8)
            cv2.accumulateWeighted(frames.reshape(flat), background.reshape(flat), 2.0 ** -int(level),
                                   mask=mask.reshape(flat))
        absorb = self.settings.housekeeping_seconds / self.settings.absorb_seconds
        for k, (camera, step) in enumerate(zip(batch.cameras, steps, strict=True)):
            if step.reset:
                background[k] = frames[k]
                camera.tracker.clear()
            elif step.upkeep:
                cv2.accumulateWeighted(frames[k], background[k], absorb, mask=foreground[k])
        cv2.convertScaleAbs(background.reshape(flat), dst=background8.reshape(flat))
        cv2.addWeighted(frames.reshape(flat), RECENT_RATE, state.recent.reshape(flat), 1.0 - RECENT_RATE, 0.0,
                        dst=state.recent.reshape(flat))
        for k, step in enumerate(steps):
            if step.reset or step.jumped:
                state.recent[k] = frames[k]
        state.put_back(self, batch.slots, whole)
        for camera, step in zip(batch.cameras, steps, strict=True):
            if step.upkeep or step.overlay_grew:
                self._refresh_thresholds(camera, force=step.overlay_grew)
        return [self._observe(camera, float(batch.t[k]), step) for k, (camera, step) in enumerate(zip(batch.cameras, steps, strict=True))]

    def _step(self, camera: _Camera, t: float, is_ir: bool | None, count: int, jumped: bool, frame: np.ndarray,
              background: np.ndarray, background8: np.ndarray) -> _Step:
        """Timing, mode, global change and upkeep of one camera at this frame (before any region work)."""
        step = _Step(jumped=jumped)
        first = camera.last_t == -math.inf
        if not first and t > camera.last_t:
            gap = t - camera.last_t
            camera.interval = gap if math.isnan(camera.interval) else camera.interval + 0.1 * (gap - camera.interval)
        camera.last_t = t
        step.reset = first
        if first:  # the first frame is the background; no motion until the noise is known
            camera.is_ir = camera.reported_ir = camera.is_ir if is_ir is None else is_ir
            camera.settle_until = t + self.settings.settle_seconds
        elif is_ir is not None and is_ir != camera.is_ir:  # the other mode: rebuild, learn its noise, go on
            camera.is_ir, camera.mode_since, camera.noise, step.reset = is_ir, t, math.nan, True
            camera.settle_until = t + self.settings.settle_seconds
        elif camera.is_ir != camera.reported_ir and t - camera.mode_since >= self.settings.mode_confirm_seconds:
            camera.reported_ir, step.mode_changed = camera.is_ir, True
        suppress = t < camera.settle_until
        changed = count / camera.watched_pixels
        if (changed > GLOBAL_FRACTION or (jumped and changed > JUMP_FRACTION)) and not suppress:
            if matching(coarse_regions(background8), coarse_regions(frame)) >= LIGHTING_MATCHING:
                step.reset = True  # lighting: same view, other brightness pattern
            elif camera.big_since is None:
                camera.big_since = t
            elif t - camera.big_since >= SCENE_CHANGE_SECONDS:
                step.reset = True
        else:
            camera.big_since = None
        step.global_change = step.reset or suppress
        if step.global_change:
            camera.tracker.clear()
        camera.since_reset = 0 if step.reset else camera.since_reset + 1
        if t >= camera.next_upkeep or math.isnan(camera.noise):
            step.upkeep = True
            camera.next_upkeep = t + self.settings.housekeeping_seconds
            if not step.reset:
                self._upkeep_noise(camera, frame, background)
            if camera.settings.tamper:
                camera.tamper.check(frame, camera.detail_sharpness, camera.is_ir, self.settings.housekeeping_seconds)
            camera.detail_sharpness, camera.want_detail = math.nan, True
        return step

    def _regions(self, batch: _Batch, state: _Arrays, difference: np.ndarray, foreground: np.ndarray,
                 candidates: list[int], steps: list[_Step]) -> None:
        """Blobs of the cameras that may see motion, in one stack; then tracking per camera."""
        frames = batch.frames[candidates]
        recent = state.recent[candidates]
        height, width = frames.shape[1:]
        flat = (len(candidates) * height, width)
        changing = cv2.compare(cv2.absdiff(frames.reshape(flat), recent.reshape(flat)),
                               state.thresholds[candidates].reshape(flat), cv2.CMP_GT)
        for i, k in enumerate(candidates):
            if steps[k].jumped:  # the light changed: differences from the recent frames mean nothing now
                changing.reshape(frames.shape)[i] = 0
        min_pixels = np.array([batch.cameras[k].min_pixels for k in candidates])
        found = find_blobs(foreground[candidates], changing.reshape(frames.shape), min_pixels)
        for k, blobs in zip(candidates, found, strict=True):
            camera, step, t = batch.cameras[k], steps[k], float(batch.t[k])
            overlay = camera.overlay
            persist = self.settings.persist_seconds_ir if camera.is_ir else self.settings.persist_seconds
            needed = 1 if math.isnan(camera.interval) else max(1, math.ceil(persist / camera.interval - 0.01))
            if camera.is_ir:  # insects and rain near the lens shine in the IR illuminator's light
                blobs = [replace(blob, soft=True) if is_soft(difference[k], batch.frames[k], blob) else blob
                         for blob in blobs]
            moving, still = camera.tracker.update(blobs, t, needed, overlay.suspect if overlay else _never)
            for blob in still:  # something stopped (or a residue crept in): make it background now
                area = (slice(blob.y0, blob.y1), slice(blob.x0, blob.x1))
                np.copyto(state.background[k][area], batch.frames[k][area], where=foreground[k][area] > 0)
            step.overlay_grew = overlay is not None and overlay.observe(blobs, t)
            step.boxes = tuple(_box(blob, self.settings.work_size) for blob in moving)
            if moving:
                fraction = sum(blob.pixels for blob in moving) / camera.watched_pixels
                step.score = round(fraction / (fraction + camera.settings.min_object_size), 3)

    def _observe(self, camera: _Camera, t: float, step: _Step) -> Observation:
        signals = camera.tamper.signals if camera.settings.tamper else TamperSignals()
        noise = 0.0 if math.isnan(camera.noise) else round(camera.noise, 2)
        return Observation(camera.name, t, step.score, step.boxes, camera.reported_ir, step.mode_changed,
                           step.global_change, signals.covered, signals.moved, signals.defocused, False, noise)

    def _learning_level(self, camera: _Camera) -> int:
        """Background rate 2**-level: about interval/background_seconds, faster after a rebuild."""
        interval = 1 / 15 if math.isnan(camera.interval) else max(camera.interval, 1e-3)
        target = round(math.log2(max(2.0, self.settings.background_seconds / interval)))
        warming = 1 + int(math.log2(1 + camera.since_reset))
        return max(1, min(target, warming, MAX_LEARNING_LEVEL))

    def _upkeep_noise(self, camera: _Camera, frame: np.ndarray, background: np.ndarray) -> None:
        """Temporal noise from the median |frame - background| on a sparse grid (robust to movers)."""
        deviation = np.abs(frame[1::3, 2::4] - background[1::3, 2::4])
        sigma = 1.4826 * float(np.median(deviation))
        camera.noise = sigma if math.isnan(camera.noise) else camera.noise + 0.3 * (sigma - camera.noise)

    def _refresh_thresholds(self, camera: _Camera, force: bool = False) -> None:
        low, high = NOISE_FACTOR
        factor = low + (high - low) * camera.settings.level + (IR_FACTOR if camera.is_ir else 0.0)
        floor = THRESHOLD_FLOOR[camera.is_ir]
        noise = 0.0 if math.isnan(camera.noise) else camera.noise
        threshold = int(min(THRESHOLD_CEILING, max(floor, round(factor * noise))))
        if threshold != camera.threshold or force:
            camera.threshold = threshold
            row = self._thr[camera.slot]
            row[...] = threshold
            row[camera.blocked()] = 255

    # ------------------------------------------------------------------ silence, slots

    def _silent(self, now: float) -> list[Observation]:
        """Video loss: cameras whose picture stopped for video_loss_seconds (reported at their last frame's
        time). A camera that has not sent a picture yet is not lost but still connecting (a camera that
        cannot connect at all is reported offline by ingest, with the reason)."""
        return [Observation(camera.name, camera.last_t, is_ir=camera.reported_ir, video_loss=True)
                for camera in self._slots
                if camera.last_t > -math.inf and now - camera.last_t >= self.settings.video_loss_seconds]

    def _allocate(self, capacity: int) -> None:
        """(Re)allocate the per-slot arrays for `capacity` cameras, keeping what the used slots hold."""
        width, height = self.settings.work_size
        used = len(self._slots)
        old = {name: getattr(self, name) for name in _ARRAYS if hasattr(self, name)}
        self._frames = np.zeros((capacity, height, width), np.uint8)
        self._recent = np.zeros((capacity, height, width), np.uint8)
        self._bg = np.zeros((capacity, height, width), np.float32)
        self._bg8 = np.zeros((capacity, height, width), np.uint8)
        self._thr = np.full((capacity, height, width), 255, np.uint8)
        self._chroma = np.full((capacity, 2, *CHROMA_GRID), 128, np.uint8)
        self._has_chroma = np.zeros(capacity, bool)
        self._pending = np.zeros(capacity, bool)
        self._pending_t = np.zeros(capacity)
        self._sharpness = np.full(capacity, math.nan)
        for name, array in old.items():
            getattr(self, name)[:used] = array[:used]

    def _remove(self, name: str) -> None:
        camera = self._cameras[name]
        with self._pending_lock:
            del self._cameras[name]
            last = self._slots.pop()
            if last is not camera:
                for array_name in _ARRAYS:
                    array = getattr(self, array_name)
                    array[camera.slot] = array[last.slot]
                last.slot = camera.slot
                self._slots[camera.slot] = last
            self._pending[len(self._slots)] = False


_ARRAYS = ("_frames", "_recent", "_bg", "_bg8", "_thr", "_chroma", "_has_chroma", "_pending", "_pending_t", "_sharpness")


@dataclass
class _Batch:
    slots: np.ndarray
    cameras: list[_Camera]
    frames: np.ndarray  # (n, H, W) uint8, copies
    t: np.ndarray
    chroma: np.ndarray
    has_chroma: np.ndarray
    sharpness: np.ndarray


@dataclass
class _Step:
    """What one camera's frame led to."""

    jumped: bool = False  # the gain jumped (light switch)
    reset: bool = False  # the background is rebuilt from this frame
    mode_changed: bool = False
    global_change: bool = False  # no motion reported for this frame
    upkeep: bool = False  # noise and tamper upkeep ran
    overlay_grew: bool = False
    score: float = 0.0
    boxes: tuple[Box, ...] = ()


@dataclass
class _Arrays:
    """The processed cameras' rows of the bank's state: views when all cameras are processed, else copies."""

    background: np.ndarray  # float32: the long-term background
    background8: np.ndarray  # the same, rounded
    recent: np.ndarray  # the last few frames, averaged (RECENT_RATE): what changes now differs from it
    thresholds: np.ndarray

    @classmethod
    def take(cls, bank: DetectorBank, slots: np.ndarray, whole: bool) -> _Arrays:
        if whole:
            rows = slice(0, len(slots))
            return cls(bank._bg[rows], bank._bg8[rows], bank._recent[rows], bank._thr[rows])
        return cls(bank._bg[slots], bank._bg8[slots], bank._recent[slots], bank._thr[slots])

    def put_back(self, bank: DetectorBank, slots: np.ndarray, whole: bool) -> None:
        if not whole:
            bank._bg[slots], bank._bg8[slots], bank._recent[slots] = self.background, self.background8, self.recent


def _never(_: Blob) -> bool:
    return False


def _gains(frames: np.ndarray, background: np.ndarray) -> np.ndarray:
    """Per camera, the median brightness ratio frame/background (around black) on a sparse grid."""
    half = GAIN_STEP // 2
    now = frames[:, half::GAIN_STEP, half::GAIN_STEP].reshape(len(frames), -1).astype(np.float32) - BLACK
    before = background[:, half::GAIN_STEP, half::GAIN_STEP].reshape(len(frames), -1) - BLACK
    usable = (before > 24) & (before < 215) & (now > 0) & (now < 219)  # neither dark nor clipped
    ratios = np.sort(np.where(usable, now / np.maximum(before, 1.0), np.inf), axis=1)  # unusable ones last
    found = usable.sum(axis=1)
    median = np.take_along_axis(ratios, (found // 2)[:, None], axis=1)[:, 0]
    gains: np.ndarray = np.where(found >= max(8, usable.shape[1] // 8), median, 1.0)
    return gains


_PAIR_ACROSS = np.ones((1, 2), np.uint8)
_PAIR_DOWN = np.ones((2, 1), np.uint8)


def _clustered_counts(foreground: np.ndarray, cameras: int) -> np.ndarray:
    """Per camera, the foreground pixels with a foreground neighbour beside or below them.

    Sensor and compression noise leaves lone pixels: enough of them to pass a plain count most frames in
    a quiet scene, never enough of these. A blob of n pixels has about n of them.
    """
    paired = cv2.bitwise_or(cv2.erode(foreground, _PAIR_ACROSS), cv2.erode(foreground, _PAIR_DOWN))
    counts: np.ndarray = cv2.reduce(paired.reshape(cameras, -1), 1, cv2.REDUCE_SUM, dtype=cv2.CV_32S)[:, 0] // 255
    return counts


def _apply_gain(background: np.ndarray, frame: np.ndarray, gain: float) -> None:
    """Scale the background like the frame was. After a jump, take the frame where the model says clipped
    and next to it: a work pixel there mixes clipped and unclipped parts of the picture (a wire or the
    camera's clock against a wall that burnt out) and follows neither."""
    np.multiply(background, gain, out=background)
    np.add(background, BLACK * (1.0 - gain), out=background)
    if abs(gain - 1.0) > GAIN_JUMP:
        clipped = ((background > CLIPPED[1]) | (background < CLIPPED[0])).view(np.uint8)
        np.copyto(background, frame, where=cv2.dilate(clipped, NEIGHBOURS).view(bool))


def _box(blob: Blob, size: tuple[int, int]) -> Box:
    width, height = size
    return (round(blob.x0 / width, 4), round(blob.y0 / height, 4), round((blob.x1 - blob.x0) / width, 4),
            round((blob.y1 - blob.y0) / height, 4))
