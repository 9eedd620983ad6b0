"""What the corpus draws over rendered frames, and the weather of the wet season: rain, a wet road, snow,
trees and awnings in the wind, water, and a camera that shakes on its pole.

Sizes and speeds are given at 640 pixels across and scale with the frame. Every effect is a function of
its seed and the frame's time only (never of the frames drawn before), so a clip is the same bit for bit
whichever frames are rendered. In infrared the picture is grey: effects leave its chroma neutral, and
what they draw is lit by the camera's own lamp.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from typing import Self

import cv2
import numpy as np

from ingest.demo.sprites import colours, paint
from ingest.demo.synthetic import Box, Frame, SceneSpec
from ingest.demo.world import LAYOUTS, Camera, placements

REFERENCE_WIDTH = 640
EXPOSURE = 1 / 50  # s: how long a frame is exposed (motion blur of a shaking camera)
SPREAD = (math.sqrt(5) - 1) / 2  # a snowflake's next pass, this far across (of the width): spread evenly
WINDIEST = 0.8  # rain drawn again (`Rain.drawn_again`) slants at most this much across per down, either way


@dataclass
class Effect:
    """Something drawn over a rendered frame (in place, on its planes) from `start` to `end` s (by default the
    whole clip)."""

    start: float = field(default=0.0, kw_only=True)
    end: float = field(default=math.inf, kw_only=True)

    def draw(self, frame: Frame, t: float) -> None:
        raise NotImplementedError

    def active(self, t: float) -> bool:
        return self.start <= t < self.end

    def moved(self, frame: Frame, t: float) -> tuple[Box, ...]:
        """The frame's ground truth after drawing: the picture itself moves only when the camera shakes."""
        return frame.boxes

    def drawn_again(self, shift: int) -> Self:
        """This effect with its random numbers from another seed (its `seed` plus `shift`), if it has one."""
        seed = getattr(self, "seed", None)
        if seed is None:
            return self
        changes = {"seed": seed + shift}  # not every effect has one: checked above, not by the type checker
        return replace(self, **changes)


def _scale(frame: Frame) -> float:
    return frame.y.shape[1] / REFERENCE_WIDTH


def _lit(frame: Frame, luma: np.ndarray | float) -> np.ndarray | float:
    """What a surface of this luma in full light looks like in the frame's light (dusk dims it like the scene)."""
    return 16 + (luma - 16) * frame.gain


def _region(frame: Frame, box: tuple[float, float, float, float]) -> tuple[slice, slice]:
    """A normalized (x0, y0, x1, y1) box as the rows and columns of the frame's Y plane, each edge even (for the
    chroma: `_tint`)."""
    height, width = frame.y.shape
    x0, y0, x1, y1 = box
    return (slice(2 * round(y0 * height / 2), 2 * round(y1 * height / 2)),
            slice(2 * round(x0 * width / 2), 2 * round(x1 * width / 2)))


def _tint(frame: Frame, rows: slice, columns: slice, where: np.ndarray, u: int, v: int) -> None:
    """Colour (by day) the chroma of `where` (a bool mask at luma resolution over rows x columns)."""
    if frame.infrared:
        return
    half = where[::2, ::2]
    chroma_rows, chroma_columns = slice(rows.start // 2, rows.stop // 2), slice(columns.start // 2, columns.stop // 2)
    frame.u[chroma_rows, chroma_columns][half] = u
    frame.v[chroma_rows, chroma_columns][half] = v


class _Waves:
    """Smooth random waves that drift: two periodic noise fields sliding past each other, unit spread."""

    def __init__(self, rng: np.random.Generator, shape: tuple[int, int], grain: tuple[float, float],
                 speeds: tuple[tuple[float, float], tuple[float, float]]) -> None:
        """`grain`: the waves' size across and down (px); a surface seen at a grazing angle has them wide."""
        height, width = shape
        self._speeds = speeds
        self._fields = []
        for _ in speeds:
            noise = np.tile(rng.standard_normal((height, width)).astype(np.float32), (3, 3))
            # blurred as a 3x3 tiling, whose middle tile is then periodic like the tiling
            waves: np.ndarray = cv2.GaussianBlur(noise, (0, 0), grain[0], sigmaY=grain[1])[height: 2 * height,
                                                                                           width: 2 * width]
            waves /= max(float(waves.std()), 1e-6) * math.sqrt(len(speeds))
            self._fields.append(np.tile(waves, (2, 2)))  # windows at any offset are views

    def at(self, t: float) -> np.ndarray:
        total: np.ndarray | None = None
        for tiled, (vx, vy) in zip(self._fields, self._speeds, strict=True):
            height, width = tiled.shape[0] // 2, tiled.shape[1] // 2
            dy, dx = int(vy * t) % height, int(vx * t) % width
            window = tiled[dy: dy + height, dx: dx + width]
            total = window.copy() if total is None else np.add(total, window, out=total)
        assert total is not None
        return total


def _gusts(rng: np.random.Generator, strength: float, seconds: float = 600.0) -> tuple[np.ndarray, np.ndarray]:
    """Times and strengths of gusts of wind, about one every 6 s."""
    times = np.cumsum(rng.exponential(6.0, max(1, int(seconds / 6.0) * 2)))
    return times[times < seconds], strength * rng.uniform(0.6, 1.4, (times < seconds).sum())


def _wind(gusts: tuple[np.ndarray, np.ndarray], t: float) -> float:
    """How hard the wind blows at t: a breeze and the gusts (each rising and dying over about 2 s)."""
    times, strengths = gusts
    return 0.35 + float(np.sum(strengths * np.exp(-0.5 * ((t - times) / 0.9) ** 2)))


# ---------------------------------------------------------------------------------------------- rain

@dataclass
class Rain(Effect):
    """Rain: each drop a thin streak (its fall during the exposure) at a new place in every frame, lighter
    than what is behind it; splashes on the ground below row `ground` (fraction of the height), each for
    three frames. `drops` per frame go from the first to the second figure between `start` and `ramp_end`
    (drizzle to downpour). In infrared the camera's lamp lights the drops up, and now and then one falls
    right in front of the lens: a long, wide, blurred bright streak.
    """

    seed: int
    drops: tuple[float, float] = (160.0, 160.0)
    infrared: bool = False
    ground: float = 0.4
    slant: float = 0.12  # across per down: the wind
    ramp_end: float = 60.0
    near_per_second: float = 1.5  # drops in front of the lens, in infrared

    def drawn_again(self, shift: int) -> Self:
        """Other drops, and other wind: a slant drawn up to WINDIEST either way (a monsoon squall drives the rain
        at 40 degrees; the corpus as drawn has a breeze's 0.12)."""
        again = super().drawn_again(shift)
        return replace(again, slant=float(np.random.default_rng([again.seed, 92]).uniform(-WINDIEST, WINDIEST)))

    def rate(self, t: float) -> float:
        low, high = self.drops
        return low + (high - low) * min(1.0, max(0.0, (t - self.start) / (self.ramp_end - self.start)))

    def draw(self, frame: Frame, t: float) -> None:
        y = frame.y
        height, width = y.shape
        scale = _scale(frame)
        rate = self.rate(t)
        layer = np.zeros_like(y)
        rng = np.random.default_rng([self.seed, 90, frame.index])
        count = int(rng.poisson(rate))
        depth = rng.uniform(0.0, 1.0, count) ** 2  # most drops are far: short and faint
        length = (6 + 34 * depth) * scale
        x = rng.uniform(-max(0.0, self.slant) * length, width + max(0.0, -self.slant) * length, count)  # edge to edge
        top = rng.uniform(-length, height, count)
        lift = ((35 + 85 * depth) if self.infrared else (10 + 30 * depth)) * frame.gain
        ends = np.stack([x, top, x + self.slant * length, top + length], axis=1) * 16  # 4 bits of sub-pixel
        for level in np.unique(np.round(lift, -1)):  # one call per brightness step
            chosen = np.round(lift, -1) == level
            lines = list(ends[chosen].round().astype(np.int32).reshape(-1, 2, 1, 2))
            cv2.polylines(layer, lines, False, int(level), 1, cv2.LINE_AA, shift=4)
        self._splashes(layer, frame.index, rate, scale, frame.gain)
        cv2.add(y, layer, dst=y)
        if self.infrared:
            self._near_lens(y, frame.fps, rng)

    def _splashes(self, layer: np.ndarray, index: int, rate: float, scale: float, gain: float) -> None:
        height, width = layer.shape
        ground = int(self.ground * height)
        for age in range(3):
            rng = np.random.default_rng([self.seed, 91, index + 2 - age])  # born at frame index - age
            count = int(rng.poisson(0.12 * rate))
            rows = rng.uniform(ground, height, count)
            near = (rows - ground) / max(1, height - ground)
            radii = np.maximum(1, np.round((0.8 + 2.2 * near) * scale * (1 + 0.5 * age))).astype(int)
            level = int((70 if self.infrared else 45) * (1 - age / 3) * gain)
            for column, row, radius in zip(rng.uniform(0, width, count).astype(int).tolist(), rows.astype(int).tolist(),
                                           radii.tolist(), strict=True):
                cv2.circle(layer, (column, row), radius, level, 1 if age else -1)

    def _near_lens(self, y: np.ndarray, fps: float, rng: np.random.Generator) -> None:
        height, width = y.shape
        if rng.uniform() >= self.near_per_second / fps:
            return
        thickness = int(rng.uniform(0.012, 0.03) * width)
        x0 = rng.uniform(0, width)
        top = rng.uniform(-0.5, 0.5) * height
        bottom = top + rng.uniform(0.4, 0.9) * height
        streak = np.zeros(y.shape, np.float32)
        cv2.line(streak, (int(x0), int(top)), (int(x0 + self.slant * (bottom - top)), int(bottom)),
                 float(rng.uniform(60, 140)), thickness)
        blurred = cv2.GaussianBlur(streak, (0, 0), thickness * 0.6)
        np.copyto(y, np.clip(y + blurred, 0, 255).astype(np.uint8))


@dataclass
class WetRoad(Effect):
    """A wet road below row `ground` (fraction of the height): its film of water shimmers, more so near the
    camera, and every mover has a faint, wavy reflection under it."""

    seed: int
    ground: float = 0.4
    shimmer: float = 4.0  # levels, at the bottom of the picture
    reflection: float = 0.35  # how much of a mover the road reflects
    _waves: dict[tuple[int, int], _Waves] = field(default_factory=dict, init=False, repr=False)

    def draw(self, frame: Frame, t: float) -> None:
        y = frame.y
        height, width = y.shape
        top = int(self.ground * height)
        shape = (height - top, width)
        if shape not in self._waves:
            scale = _scale(frame)
            self._waves[shape] = _Waves(np.random.default_rng([self.seed, 92]), shape, (4.0 * scale, 1.5 * scale),
                                        ((25 * scale, 40 * scale), (-30 * scale, 15 * scale)))
        ramp = np.linspace(0.3, 1.0, height - top, dtype=np.float32)[:, None]
        road = y[top:].astype(np.float32)
        road += self._waves[shape].at(t) * (self.shimmer * ramp)
        for box in frame.boxes:
            self._reflect(y, road, top, box, t)
        np.copyto(y[top:], np.clip(road, 0, 255).astype(np.uint8))

    def _reflect(self, y: np.ndarray, road: np.ndarray, top: int, box: Box, t: float) -> None:
        height = y.shape[0]
        rows = min(int(0.6 * (box.y1 - box.y0)), height - box.y1)
        if rows <= 0 or box.y1 < top:
            return
        mirrored = y[box.y1 - rows: box.y1, box.x0: box.x1][::-1].astype(np.float32)
        wave = np.round(1.5 * np.sin(np.arange(rows) * 0.9 + 7 * t)).astype(int)  # rows shifted across
        mirrored = mirrored[np.arange(rows)[:, None], np.clip(np.arange(box.x1 - box.x0)[None, :] + wave[:, None], 0,
                                                              box.x1 - box.x0 - 1)]
        fade = self.reflection * np.linspace(1.0, 0.2, rows, dtype=np.float32)[:, None]
        target = road[box.y1 - top: box.y1 - top + rows, box.x0: box.x1]
        target += (mirrored - target) * fade


# ---------------------------------------------------------------------------------------------- snow

@dataclass
class Snow(Effect):
    """Snow: `flakes` falling and swaying in the wind, far ones a pixel, slow and faint, nearer ones bigger and
    faster, each seen in every frame while it crosses the picture; and one in a hundred right in front of the
    lens, far out of focus: a big, faint, soft disc that falls through the picture in a few frames. A flake that
    has fallen out of the picture comes back at the top as another, elsewhere across (SPREAD). Until 2026-11-30 it
    came back where it had been, and the discs fell down the same 4-8 columns all through a clip."""

    seed: int
    flakes: int = 700

    def __post_init__(self) -> None:
        rng = np.random.default_rng([self.seed, 93])
        n = self.flakes
        self._depth = rng.uniform(0.0, 1.0, n) ** 2
        self._origin = rng.uniform(0.0, 1.0, (2, n))
        self._fall = 0.12 + 0.6 * self._depth  # picture heights per second
        self._drift = rng.uniform(0.01, 0.04, n)  # picture widths per second
        self._sway = rng.uniform(0.005, 0.02, n) * (1 + 2 * self._depth)
        self._frequency = rng.uniform(0.3, 1.0, n) * 2 * math.pi
        self._phase = rng.uniform(0.0, 2 * math.pi, n)
        self._whiteness = 0.35 + 0.55 * self._depth
        near = max(1, n // 100)
        self._near_origin = rng.uniform(0.0, 1.0, (2, near))
        self._near_fall = rng.uniform(1.5, 2.5, near)  # picture heights per second, and a gap as long between
        self._near_radius = rng.uniform(0.05, 0.12, near)  # of the height
        self._near_whiteness = rng.uniform(0.25, 0.45, near)
        self._discs: dict[tuple[int, int], np.ndarray] = {}

    def draw(self, frame: Frame, t: float) -> None:
        y = frame.y
        height, width = y.shape
        scale = _scale(frame)
        fallen = self._origin[1] + self._fall * t  # picture heights, one more for every time it fell out
        x = (self._origin[0] + SPREAD * np.floor(fallen) + self._drift * t
             + self._sway * np.sin(self._frequency * t + self._phase)) % 1.0
        v = fallen % 1.0
        columns, rows = (x * (width - 2)).astype(int), (v * (height - 2)).astype(int)
        radius = (0.6 + 3.0 * self._depth) * scale
        white = _lit(frame, 235.0)
        small = radius < 1.6
        for dy, dx in ((0, 0), (0, 1), (1, 0), (1, 1)):  # a flake of a pixel or two: a 2x2 patch, softer at its side
            weight = self._whiteness[small] * (1.0 if (dy, dx) == (0, 0) else 0.5)
            r, c = rows[small] + dy, columns[small] + dx
            patch = y[r, c].astype(np.float32)
            y[r, c] = (patch + (white - patch) * weight).astype(np.uint8)
        layer: np.ndarray = np.zeros(y.shape, np.float32)
        for k in np.flatnonzero(~small).tolist():
            cv2.circle(layer, (int(columns[k]), int(rows[k])), int(radius[k]), float(self._whiteness[k]), -1)
        layer = cv2.GaussianBlur(layer, (0, 0), 1.2 * scale)
        near_fallen = self._near_origin[1] + self._near_fall * t
        near_rows = (near_fallen % 2.0 - 0.5) * height  # half the time in sight
        near_columns = (self._near_origin[0] + SPREAD * np.floor(near_fallen / 2.0)) % 1.0 * width
        for k, (column, row, size, whiteness) in enumerate(zip(
                near_columns.tolist(), near_rows.tolist(), (self._near_radius * height).tolist(),
                self._near_whiteness.tolist(), strict=True)):
            reach = int(2.5 * size)  # the disc and its blur
            top, bottom = max(0, int(row) - reach), min(height, int(row) + reach)
            left, right = max(0, int(column) - reach), min(width, int(column) + reach)
            if top < bottom and left < right:
                whole = (bottom - top, right - left) == (2 * reach, 2 * reach)
                soft = self._whole_disc(k, reach, size, whiteness) if whole else _soft_disc(
                    (bottom - top, right - left), (int(column) - left, int(row) - top), size, whiteness)
                layer[top:bottom, left:right] += soft
        np.copyto(y, (y + (white - y) * np.minimum(layer, 1.0)).astype(np.uint8))

    def _whole_disc(self, flake: int, reach: int, size: float, whiteness: float) -> np.ndarray:
        """A near flake's blurred disc when the picture shows all of it: the same in every frame, blurred once
        (the blur is most of the snow's cost)."""
        key = (flake, reach)
        if key not in self._discs:
            self._discs[key] = _soft_disc((2 * reach, 2 * reach), (reach, reach), size, whiteness)
        return self._discs[key]


def _soft_disc(shape: tuple[int, int], centre: tuple[int, int], size: float, whiteness: float) -> np.ndarray:
    """A disc of `whiteness` and radius `size` at `centre` in a picture of `shape`, far out of focus."""
    disc = np.zeros(shape, np.float32)
    cv2.circle(disc, centre, int(size), whiteness, -1)
    soft: np.ndarray = cv2.GaussianBlur(disc, (0, 0), 0.5 * size)
    return soft


# ---------------------------------------------------------------------------------------------- wind

@dataclass
class Tree(Effect):
    """A tree's crown in the wind, not masked: an ellipse in `box` (normalized x0, y0, x1, y1) whose leaves sway
    with the gusts and flutter, and whose edge moves against what is behind it."""

    box: tuple[float, float, float, float]
    seed: int
    strength: float = 1.0

    def __post_init__(self) -> None:
        rng = np.random.default_rng([self.seed, 94])
        self._leaves = rng.uniform(0, 1, (120, 160)).astype(np.float32)
        self._gusts = _gusts(rng, self.strength)
        self._flutter_seed = int(rng.integers(1 << 30))

    def draw(self, frame: Frame, t: float) -> None:
        rows, columns = _region(frame, self.box)
        area = frame.y[rows, columns]
        height, width = area.shape
        scale = _scale(frame)
        wind = _wind(self._gusts, t)
        sway = wind * scale * (4.0 * math.sin(2 * math.pi * t / 1.9) + 2.0 * math.sin(2 * math.pi * t / 0.7))
        margin = int(16 * scale) + 2
        texture: np.ndarray = cv2.GaussianBlur(
            cv2.resize(self._leaves, (width + 2 * margin, height), interpolation=cv2.INTER_LINEAR), (0, 0), 1.3 * scale)
        flutter = np.random.default_rng([self._flutter_seed, frame.index]).uniform(-1, 1, texture.shape)
        texture += cv2.GaussianBlur(flutter.astype(np.float32), (0, 0), 0.8 * scale) * 0.25 * min(1.0, wind)
        shift = max(-margin, min(margin, round(sway)))
        leaves = texture[:, margin - shift: margin - shift + width]
        outline = np.zeros((height, width), np.float32)
        centre = (width // 2 + round(0.6 * sway), height // 2)
        cv2.ellipse(outline, centre, (width // 2 - margin // 2, height // 2 - 1), 0, 0, 360, 1.0, -1)
        crown = cv2.GaussianBlur(outline, (0, 0), 1.5 * scale)
        tone = _lit(frame, (70 + 150 * leaves) if frame.infrared else (35 + 120 * leaves))  # leaves shine in IR
        np.copyto(area, np.clip(area + (tone - area) * crown, 0, 255).astype(np.uint8))
        _tint(frame, rows, columns, crown > 0.5, 112, 118)


@dataclass
class Awning(Effect):
    """A shop's striped awning in the wind, not masked, in `box` (normalized; its hem at rest along the bottom):
    the hem waves, and the cloth's shading changes as it lifts."""

    box: tuple[float, float, float, float]
    seed: int
    strength: float = 1.0

    def __post_init__(self) -> None:
        self._gusts = _gusts(np.random.default_rng([self.seed, 95]), self.strength)

    def draw(self, frame: Frame, t: float) -> None:
        rows, columns = _region(frame, self.box)
        area = frame.y[rows, columns]
        height, width = area.shape
        scale = _scale(frame)
        wind = _wind(self._gusts, t)
        across = np.arange(width, dtype=np.float32)
        phase = 2 * math.pi * across / (60 * scale) - 2 * math.pi * 1.3 * t
        hem = height - 4 * scale * wind * (1 + np.sin(phase))  # rows of cloth in each column
        cloth = np.arange(height, dtype=np.float32)[:, None] < hem[None, :]
        stripes = (across // int(14 * scale)) % 2 == 0
        tone = np.where(stripes, 200.0, 95.0) * (1 + 0.15 * wind * np.cos(phase))
        tone = _lit(frame, 60 + 0.7 * tone if frame.infrared else tone)
        np.copyto(area, np.clip(np.broadcast_to(tone, area.shape), 0, 255).astype(np.uint8), where=cloth)
        _tint(frame, rows, columns, cloth & ~stripes[None, :], 110, 190)  # red and white


# ---------------------------------------------------------------------------------------------- water

@dataclass
class Water(Effect):
    """Water in `box` (normalized x0, y0, x1, y1): a canal or a flooded patch, darker than the ground, where
    ripples run across and glints of the sky (or the lamp) come and go."""

    box: tuple[float, float, float, float]
    seed: int
    ripple: float = 14.0  # levels
    _waves: dict[tuple[int, int], _Waves] = field(default_factory=dict, init=False, repr=False)

    def draw(self, frame: Frame, t: float) -> None:
        rows, columns = _region(frame, self.box)
        area = frame.y[rows, columns]
        shape = area.shape
        scale = _scale(frame)
        if shape not in self._waves:
            self._waves[shape] = _Waves(np.random.default_rng([self.seed, 96]), shape, (7.0 * scale, 1.8 * scale),
                                        ((35 * scale, 12 * scale), (-20 * scale, 25 * scale)))
        waves = self._waves[shape].at(t)
        surface = 0.5 * area + (60.0 if frame.infrared else 45.0) * frame.gain + self.ripple * frame.gain * waves
        glints = (waves > 1.9) & (np.random.default_rng([self.seed, 97, frame.index]).uniform(size=shape) < 0.3)
        surface[glints] += 90
        np.copyto(area, np.clip(surface, 0, 255).astype(np.uint8))
        _tint(frame, rows, columns, np.ones(shape, bool), 135, 120)


@dataclass
class Surf(Effect):
    """The sea beyond a promenade in `box` (normalized x0, y0, x1, y1; the shore along its bottom edge): swell
    rolls in, a wave every `period` s or so, breaks part of the way in and runs up the shore as a band of white
    foam that fades where it stops. The movers of `spec` (people on the promenade) stand in front of it.

    A breaking wave is what a detector of objects sees as one: a bright front that lasts and travels."""

    box: tuple[float, float, float, float]
    seed: int
    spec: SceneSpec  # whose movers hide the sea
    period: float = 6.0
    run: float = 4.5  # s from the far edge to the shore
    fade: float = 3.5  # s the foam takes to go, once it stops
    _foam: dict[tuple[int, int], _Waves] = field(default_factory=dict, init=False, repr=False)
    _swell: dict[tuple[int, int], _Waves] = field(default_factory=dict, init=False, repr=False)

    def draw(self, frame: Frame, t: float) -> None:
        rows, columns = _region(frame, self.box)
        area = frame.y[rows, columns]
        shape = area.shape
        scale = _scale(frame)
        if shape not in self._foam:
            rng = np.random.default_rng([self.seed, 98])
            self._foam[shape] = _Waves(rng, shape, (2.5 * scale, 1.2 * scale),
                                       ((6 * scale, 0.0), (-4 * scale, 3 * scale)))
            self._swell[shape] = _Waves(rng, shape, (9.0 * scale, 2.0 * scale),
                                        ((25 * scale, 6 * scale), (-15 * scale, 10 * scale)))
        down = np.linspace(0.0, 1.0, shape[0], dtype=np.float32)[:, None]  # 0 far, 1 at the shore
        across = np.linspace(0.0, 1.0, shape[1], dtype=np.float32)[None, :]
        foam = np.zeros(shape, np.float32)
        shade = np.zeros(shape, np.float32)
        first = math.floor((t - self.run - self.fade) / self.period) - 1
        for k in range(first, math.floor(t / self.period) + 2):
            rng = np.random.default_rng([self.seed, 99, k + 1000])
            born = k * self.period + rng.uniform(-0.3, 0.3) * self.period
            age = t - born
            if not 0.0 <= age < self.run + self.fade:
                continue
            # the crest, wavy across; nearer the shore it moves faster down the picture (the power)
            crest = (min(age, self.run) / self.run) ** 1.6 + 0.05 * np.sin(
                2 * math.pi * (rng.uniform(1.0, 2.5) * across + rng.uniform()))
            breaks = rng.uniform(0.35, 0.6)  # where (fraction of the way in) it starts to break
            behind = crest - down  # > 0: between the crest and the far edge
            shade += -12.0 * np.exp(-(((down - crest) / 0.06) ** 2))  # the face of the swell, darker
            reach = float(np.clip((min(age, self.run) / self.run) ** 1.6 - breaks, 0.0, None))
            if reach > 0:
                width = 0.03 + 0.6 * reach  # whitewater behind the front grows as it rolls in
                strength = 1.0 if age < self.run else max(0.0, 1.0 - (age - self.run) / self.fade)
                band = (behind >= 0) & (behind < width)
                foam += strength * band * np.clip(1.0 - behind / width, 0.3, 1.0)
        texture = self._foam[shape].at(t)
        density = np.clip(foam * (1.0 + 0.45 * texture) - 0.2 * (1.0 - foam), 0.0, 1.0)
        swell = self._swell[shape].at(t)
        base, white = (45.0, 120.0) if frame.infrared else (75.0, 215.0)
        water = base + 8.0 * swell + shade
        noise = self.spec.infrared_noise if frame.infrared else self.spec.noise  # what the renderer's grain is
        grain = np.random.default_rng([self.seed, 100, frame.index]).normal(0.0, noise, shape)
        surface = _lit(frame, water + (white - water) * density) + grain  # drawn over the renderer's own grain
        sea = ~self._movers(frame, t)[rows, columns]
        np.copyto(area, np.clip(surface, 0, 255).astype(np.uint8), where=sea)
        _tint(frame, rows, columns, sea & (density < 0.5), 140, 118)  # blue-green water
        _tint(frame, rows, columns, sea & (density >= 0.5), 128, 128)  # white foam

    def _movers(self, frame: Frame, t: float) -> np.ndarray:
        """Where the scene's movers are in this frame (a bool mask of the Y plane)."""
        canvas = np.zeros((*frame.y.shape, 3), np.uint8)
        for placed in placements(Camera(self.spec.width, self.spec.height, LAYOUTS[self.spec.place]),
                                 self.spec.movers, t):
            paint(canvas, placed, dict.fromkeys(colours(placed.mover.look), (255, 255, 255)))
        return np.asarray(canvas[:, :, 0] > 0)


# ---------------------------------------------------------------------------------------------- shake

def _mean_of_three(a: np.ndarray, b: np.ndarray, c: np.ndarray) -> np.ndarray:
    """The rounded mean of three uint8 pictures, in integers: a third of a sum is never halfway between two
    integers, so (sum + 1) // 3 is what rounding the float mean gives, at a fraction of its cost."""
    total = a.astype(np.uint16)
    total += b
    total += c
    total += 1
    total //= 3
    return total.astype(np.uint8)


@dataclass
class Shake(Effect):
    """The camera moves on its pole: a slow `drift` (px), a `jitter` (px at its peaks, 3-8 Hz: traffic shaking
    the pole) and jolts at `jolts` s (a truck brushes the pole: `jolt` px at once, dying out in about a second).
    The picture moves with blur while it moves fast; the ground truth moves with it."""

    seed: int
    drift: float = 0.0
    jitter: float = 0.0
    jolts: tuple[float, ...] = ()
    jolt: float = 14.0

    def __post_init__(self) -> None:
        rng = np.random.default_rng([self.seed, 98])
        self._phases = rng.uniform(0, 2 * math.pi, (2, 4))
        self._frequencies = rng.uniform(3.0, 8.0, (2, 3))
        self._directions = rng.uniform(0, 2 * math.pi, max(1, len(self.jolts)))

    def offset(self, t: float) -> tuple[float, float]:
        """Where the picture is (px at 640 across) at t, relative to the camera at rest."""
        dx = self.drift * math.sin(2 * math.pi * t / 7.3 + self._phases[0, 3])
        dy = 0.6 * self.drift * math.sin(2 * math.pi * t / 11.1 + self._phases[1, 3])
        if self.jitter:
            shake = np.sin(2 * math.pi * self._frequencies * t + self._phases[:, :3]).sum(axis=1)
            dx, dy = dx + self.jitter / 2.2 * float(shake[0]), dy + self.jitter / 2.2 * float(shake[1])
        for at, direction in zip(self.jolts, self._directions, strict=False):
            if at <= t:
                swing = self.jolt * math.exp(-(t - at) / 0.35) * math.cos(2 * math.pi * 2.2 * (t - at))
                dx, dy = dx + swing * math.cos(direction), dy + swing * math.sin(direction)
        return dx, dy

    def draw(self, frame: Frame, t: float) -> None:
        scale = _scale(frame)
        before, after = self.offset(t - EXPOSURE / 2), self.offset(t + EXPOSURE / 2)
        blurred = math.hypot(after[0] - before[0], after[1] - before[1]) * scale > 1.0
        moments = (t - EXPOSURE / 2, t, t + EXPOSURE / 2) if blurred else (t,)
        for plane, factor in ((frame.y, scale), (frame.u, scale / 2), (frame.v, scale / 2)):
            layers = []
            for moment in moments:
                dx, dy = self.offset(moment)
                matrix = np.array([[1, 0, dx * factor], [0, 1, dy * factor]], np.float32)
                layers.append(cv2.warpAffine(plane, matrix, (plane.shape[1], plane.shape[0]), flags=cv2.INTER_LINEAR,
                                             borderMode=cv2.BORDER_REFLECT101))
            plane[...] = layers[0] if len(layers) == 1 else _mean_of_three(*layers)

    def moved(self, frame: Frame, t: float) -> tuple[Box, ...]:
        height, width = frame.y.shape
        dx, dy = (round(value * _scale(frame)) for value in self.offset(t))
        boxes = []
        for box in frame.boxes:
            x0, x1 = max(0, box.x0 + dx), min(width, box.x1 + dx)
            y0, y1 = max(0, box.y0 + dy), min(height, box.y1 + dy)
            if x0 < x1 and y0 < y1:
                boxes.append(replace(box, x0=x0, y0=y0, x1=x1, y1=y1))
        return tuple(boxes)
