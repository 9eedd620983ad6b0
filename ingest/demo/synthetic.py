"""Synthetic street-camera scenes with ground truth: demo cameras and a labelled corpus for detection tests.

A `SceneSpec` describes a scene completely (same spec, same frames, bit for bit): a procedural street
(`place`, `seed`), objects moving along paths (`movers`, in world metres, see `ingest.demo.world`),
global illumination changes (`light`) and infrared night intervals (`infrared`). `render` yields one
`Frame` per video frame with the picture and the boxes of the visible movers.

Frames are yuv420p (I420) planes in one array, BT.601 limited range: what the H.264 encoder takes
without a conversion, and what the detectors read (the Y plane). `Frame.bgr()` converts for viewing.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from itertools import pairwise

import cv2
import numpy as np

from ingest.demo import sprites
from ingest.demo.background import background
from ingest.demo.world import LAYOUTS, Box, Camera, Mover, Place, Placement, placements

__all__ = ["Box", "Frame", "LightEvent", "Mover", "SceneSpec", "first_frames", "gain_at", "ground_truth", "infrared_at",
           "render"]

_FONT = cv2.FONT_HERSHEY_SIMPLEX
_NOISE_FIELDS, _NOISE_MARGIN = 4, 32


@dataclass(frozen=True)
class LightEvent:
    """From `at` s on, the global gain goes linearly to `gain` within `ramp` s (0: a light switched)."""

    at: float
    gain: float
    ramp: float = 0.0


@dataclass(frozen=True)
class SceneSpec:
    seed: int
    place: Place = "alley"
    width: int = 960  # even, like height (4:2:0 chroma)
    height: int = 540
    fps: int = 15
    seconds: float = 60.0
    movers: tuple[Mover, ...] = ()
    light: tuple[LightEvent, ...] = ()  # in time order, not overlapping
    infrared: tuple[tuple[float, float], ...] = ()  # [start, end) s in infrared night mode
    noise: float = 2.0  # temporal luma noise, standard deviation in 8-bit levels, daylight
    infrared_noise: float = 4.5
    overlay: bool = True  # the camera clock in the top-left corner
    clock: datetime = datetime(2025, 3, 14, 9, 30, 0)  # camera clock at the first frame

    def __post_init__(self) -> None:
        if self.width % 2 or self.height % 2 or self.width < 32 or self.height < 32:
            raise ValueError(f"frame size must be even and at least 32x32, not {self.width}x{self.height}")
        if self.fps <= 0 or self.seconds <= 0:
            raise ValueError("fps and seconds must be positive")
        if any(later.at < earlier.at + earlier.ramp for earlier, later in pairwise(self.light)):
            raise ValueError("light events must be in time order and must not overlap")

    @property
    def frame_count(self) -> int:
        return round(self.seconds * self.fps)


@dataclass(frozen=True, eq=False)
class Frame:
    index: int
    time: float  # s since the first frame
    image: np.ndarray  # (height * 3 // 2, width) uint8: Y rows, then U, then V (each quarter size)
    boxes: tuple[Box, ...]  # visible movers, in mover order
    gain: float
    infrared: bool
    fps: float  # the clip's frame rate

    @property
    def y(self) -> np.ndarray:
        return self.image[: self.image.shape[0] * 2 // 3]

    @property
    def u(self) -> np.ndarray:
        return _chroma(self.image, 0)

    @property
    def v(self) -> np.ndarray:
        return _chroma(self.image, 1)

    def bgr(self) -> np.ndarray:
        return cv2.cvtColor(self.image, cv2.COLOR_YUV2BGR_I420)


def _chroma(image: np.ndarray, plane: int) -> np.ndarray:
    """A view of the U (0) or V (1) plane of an I420 image."""
    height, width = image.shape[0] * 2 // 3, image.shape[1]
    start = height + plane * height // 4
    return image[start: start + height // 4].reshape(height // 2, width // 2)


@dataclass(frozen=True)
class _Look:
    """How the camera renders a mode: tone curve (output = black + (input - in_black) * slope * gain) etc."""

    in_black: float
    black: float
    slope: float
    vignette: float  # fraction of brightness lost in the corners
    noise: float


def gain_at(spec: SceneSpec, t: float) -> float:
    gain = 1.0
    for event in spec.light:
        if t < event.at:
            break
        if t < event.at + event.ramp:
            return gain + (event.gain - gain) * (t - event.at) / event.ramp
        gain = event.gain
    return gain


def infrared_at(spec: SceneSpec, t: float) -> bool:
    return any(start <= t < end for start, end in spec.infrared)


def ground_truth(spec: SceneSpec, index: int) -> tuple[Box, ...]:
    """The boxes of frame `index` without rendering it."""
    return _by_mover(placements(_camera(spec), spec.movers, index / spec.fps))


def first_frames(boxes: Iterable[tuple[Box, ...]], pixels: float) -> dict[int, int]:
    """Per mover, the index of the first frame (of `boxes`, one tuple per frame) where its box covers at
    least `pixels`."""
    found: dict[int, int] = {}
    for index, frame_boxes in enumerate(boxes):
        for box in frame_boxes:
            if box.mover not in found and (box.x1 - box.x0) * (box.y1 - box.y0) >= pixels:
                found[box.mover] = index
    return found


def render(spec: SceneSpec) -> Iterator[Frame]:
    """The frames in order. Set-up (background, noise fields) takes a fraction of a second at 960x540."""
    renderer = _Renderer(spec)
    for index in range(spec.frame_count):
        yield renderer.frame(index)


@dataclass
class _Mode:
    """A look with what it needs per frame precomputed: vignette map and a pool of noise fields."""

    look: _Look
    vignette: np.ndarray
    noise_up: np.ndarray  # (fields, H + margin, W + margin) uint8: positive part of the noise
    noise_down: np.ndarray  # and its negative part, so two saturating uint8 passes add signed noise

    def tone(self, gain: float) -> np.ndarray:
        return _lut(self.look.black + (np.arange(256) - self.look.in_black) * self.look.slope * gain)

    def shade(self, y: np.ndarray) -> None:
        """Vignetting, in place on the Y plane."""
        cv2.multiply(y, self.vignette, dst=y, scale=1 / 255)

    def grain(self, y: np.ndarray, rng: np.random.Generator) -> None:
        """Sensor noise, in place on the Y plane."""
        if self.look.noise > 0:
            height, width = y.shape
            k, dy, dx = (int(n) for n in rng.integers((_NOISE_FIELDS, _NOISE_MARGIN, _NOISE_MARGIN)))
            cv2.add(y, self.noise_up[k, dy: dy + height, dx: dx + width], dst=y)
            cv2.subtract(y, self.noise_down[k, dy: dy + height, dx: dx + width], dst=y)


def _camera(spec: SceneSpec) -> Camera:
    return Camera(spec.width, spec.height, LAYOUTS[spec.place])


def _by_mover(found: list[Placement]) -> tuple[Box, ...]:
    return tuple(sorted((placed.box for placed in found), key=lambda box: box.mover))


def _lut(curve: np.ndarray) -> np.ndarray:
    """A cv2.LUT table from a 256-entry curve, saturated to 8 bits."""
    table: np.ndarray = np.clip(curve, 0, 255).round().astype(np.uint8)
    return table


def _mode(look: _Look, height: int, width: int, rng: np.random.Generator) -> _Mode:
    rows, cols = np.ogrid[:height, :width]
    radius2 = ((rows - height / 2) ** 2 + (cols - width / 2) ** 2) / ((height / 2) ** 2 + (width / 2) ** 2)
    vignette = np.round(255 * (1 - look.vignette * radius2)).astype(np.uint8)
    shape = (_NOISE_FIELDS, height + _NOISE_MARGIN, width + _NOISE_MARGIN)
    noise = rng.standard_normal(shape, dtype=np.float32)
    for grain in noise:  # slightly soft grain, as after a camera's demosaicing and denoising
        cv2.GaussianBlur(grain, (0, 0), 0.6, dst=grain)
    noise *= look.noise / max(float(noise.std()), 1e-6)
    return _Mode(look, vignette, np.clip(noise, 0, 255).round().astype(np.uint8),
                 np.clip(-noise, 0, 255).round().astype(np.uint8))


class _Renderer:
    def __init__(self, spec: SceneSpec) -> None:
        self.spec = spec
        self.camera = _camera(spec)
        self.background = background(self.camera, spec.seed)
        self.rng = np.random.default_rng([spec.seed, 1])  # picks noise windows, frame after frame
        self.colours = [sprites.colours(mover.look) for mover in spec.movers]
        self.infrared_colours = [sprites.infrared(colour_map) for colour_map in self.colours]
        self._empty: tuple[tuple[bool, float], np.ndarray] | None = None  # the last empty street: (infrared, gain)

    @functools.cached_property
    def day(self) -> _Mode:
        look = _Look(in_black=16, black=16, slope=1.0, vignette=0.12, noise=self.spec.noise)
        return _mode(look, self.spec.height, self.spec.width, np.random.default_rng([self.spec.seed, 2]))

    @functools.cached_property
    def night(self) -> _Mode:
        """Infrared: grey, washed out (low contrast, lifted blacks), a bright centre, more noise."""
        look = _Look(in_black=0, black=48, slope=0.53, vignette=0.55, noise=self.spec.infrared_noise)
        return _mode(look, self.spec.height, self.spec.width, np.random.default_rng([self.spec.seed, 3]))

    def frame(self, index: int) -> Frame:
        spec = self.spec
        t = index / spec.fps
        infrared, gain = infrared_at(spec, t), gain_at(spec, t)
        found = placements(self.camera, spec.movers, t)
        mode = self.night if infrared else self.day
        street = self.background.infrared if infrared else self.background.bgr
        if found:
            canvas = street.copy()
            colour_maps = self.infrared_colours if infrared else self.colours
            for placed in found:
                sprites.paint(canvas, placed, colour_maps[placed.box.mover])
            image = self._shaded(canvas, mode, gain, infrared)
        else:
            image = self._empty_street(street, mode, gain, infrared).copy()
        mode.grain(image[: spec.height], self.rng)
        if spec.overlay:
            _stamp(image, (spec.clock + timedelta(seconds=t)).strftime("%d-%m-%Y %a %H:%M:%S"))
        return Frame(index, t, image, _by_mover(found), gain, infrared, spec.fps)

    def _empty_street(self, street: np.ndarray, mode: _Mode, gain: float, infrared: bool) -> np.ndarray:
        """The scene with no mover in it, shaded, before its noise: the same picture as long as the light stays,
        made once (an hour of a quiet street is 54,000 frames of it)."""
        key = (infrared, gain)
        if self._empty is None or self._empty[0] != key:
            self._empty = key, self._shaded(street, mode, gain, infrared)
        return self._empty[1]

    def _shaded(self, canvas: np.ndarray, mode: _Mode, gain: float, infrared: bool) -> np.ndarray:
        image = self._yuv(canvas, mode, gain, infrared)
        mode.shade(image[: self.spec.height])
        return image

    def _yuv(self, canvas: np.ndarray, mode: _Mode, gain: float, infrared: bool) -> np.ndarray:
        """I420 with the tone curve applied; infrared chroma is exactly neutral (128)."""
        height = self.spec.height
        if infrared:
            grey = np.empty((height * 3 // 2, self.spec.width), np.uint8)
            cv2.LUT(canvas, mode.tone(gain), dst=grey[:height])
            grey[height:] = 128
            return grey
        image: np.ndarray = cv2.cvtColor(canvas, cv2.COLOR_BGR2YUV_I420)
        cv2.LUT(image[:height], mode.tone(gain), dst=image[:height])
        cv2.LUT(image[height:], _lut(128 + (np.arange(256) - 128) * gain), dst=image[height:])
        return image


@functools.lru_cache(maxsize=4)
def _text(text: str, width: int, height: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A white label with a black outline: its luma, where it covers the picture, and that at chroma resolution.

    The outline is the dilated text: putText with a thicker stroke would also space the letters wider.
    """
    scale = min(width / 1280, height / 720) * 0.9
    thickness, border = max(1, round(scale * 2)), max(1, round(scale * 2.5))
    (text_width, text_height), baseline = cv2.getTextSize(text, _FONT, scale, thickness)
    rows, cols = text_height + baseline + 2 * border, text_width + 2 * border
    rows, cols = rows + rows % 2, cols + cols % 2
    glyphs = np.zeros((rows, cols), np.uint8)
    cv2.putText(glyphs, text, (border, border + text_height), _FONT, scale, 255, thickness, cv2.LINE_AA)
    mask = cv2.dilate(glyphs, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * border + 1,) * 2)) > 0
    luma = (16 + glyphs.astype(np.uint16) * 219 // 255).astype(np.uint8)
    chroma_mask = np.asarray(mask.reshape(rows // 2, 2, cols // 2, 2).any(axis=(1, 3)))
    return luma, mask, chroma_mask


def _stamp(image: np.ndarray, text: str) -> None:
    """Burn the camera clock into the top-left corner, neutral white like a camera's on-screen display."""
    height, width = image.shape[0] * 2 // 3, image.shape[1]
    luma, mask, chroma_mask = _text(text, width, height)
    top, left = 2 * math.ceil(height * 0.015), 2 * math.ceil(width * 0.01)
    rows, cols = luma.shape
    np.copyto(image[top: top + rows, left: left + cols], luma, where=mask)
    for plane in (0, 1):
        _chroma(image, plane)[top // 2: (top + rows) // 2, left // 2: (left + cols) // 2][chroma_mask] = 128
