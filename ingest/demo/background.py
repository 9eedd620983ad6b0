"""Procedural street backgrounds from a seed: ground, tube-house fronts, parked bikes, overhead cables.

Everything is drawn as projected world rectangles (see `ingest.demo.world`), so walls, doors and
pavement converge to the vanishing point like a real street seen from a wall-mounted camera.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import cv2
import numpy as np

from ingest.demo import sprites
from ingest.demo.world import NEAREST, Camera, Mover, Pose, View, place

_ASPHALT = (72, 74, 76)
_WALLS = [(140, 205, 230), (215, 200, 170), (190, 190, 235), (225, 228, 228), (175, 210, 185), (160, 165, 170),
          (120, 180, 215)]
_SIGNS = [(40, 40, 200), (150, 70, 20), (40, 190, 230), (60, 140, 40), (240, 240, 240)]
_GOODS = [(60, 90, 200), (200, 160, 60), (80, 200, 220), (220, 220, 220), (70, 70, 150)]
_METAL, _GLASS, _GRILLE, _WOOD, _INSIDE = (150, 152, 150), (85, 72, 62), (40, 42, 45), (45, 75, 115), (45, 50, 55)
_IR_SKY = 18  # the night sky reflects nothing of the camera's infrared light
_FLOOR = 3.2  # m per storey
_PARKED_VIEWS: tuple[View, View] = ("toward", "away")


@dataclass(frozen=True)
class Background:
    bgr: np.ndarray  # (H, W, 3) uint8, daylight colours
    infrared: np.ndarray  # (H, W) uint8, reflectance under the camera's infrared illuminator


@dataclass(frozen=True)
class _Wall:
    """A vertical plane: along the street at x = offset (s is depth), or facing the camera at z = offset (s is x)."""

    along: bool
    offset: float


def background(camera: Camera, seed: int) -> Background:
    rng = np.random.default_rng(seed)
    canvas = np.zeros((camera.height, camera.width, 3), np.uint8)  # 0 = nothing drawn yet, i.e. sky
    _ground(canvas, camera)
    _facades(canvas, camera, rng)
    _parked(canvas, camera, rng)
    sky = canvas.max(axis=2) == 0
    canvas[sky] = _sky(camera)[sky]
    _cables(canvas, camera, rng)
    canvas = _weathered(canvas, sky, rng)
    infrared = cv2.transform(canvas, np.array([sprites.IR_WEIGHTS], np.float32))
    infrared[sky] = _IR_SKY
    return Background(canvas, infrared)


def _fill(canvas: np.ndarray, camera: Camera, x: np.ndarray, y: np.ndarray, z: np.ndarray,
          colour: tuple[int, int, int]) -> None:
    u, v = camera.project(x, y, z)
    cv2.fillConvexPoly(canvas, np.stack([u, v], axis=1).round().astype(np.int32), colour)


def _ground_rect(canvas: np.ndarray, camera: Camera, x0: float, x1: float, z0: float, z1: float,
                 colour: tuple[int, int, int]) -> None:
    z0 = max(z0, NEAREST)
    _fill(canvas, camera, np.array([x0, x1, x1, x0]), np.zeros(4), np.array([z0, z0, z1, z1]), colour)


def _wall_rect(canvas: np.ndarray, camera: Camera, wall: _Wall, s0: float, s1: float, h0: float, h1: float,
               colour: tuple[int, int, int]) -> None:
    s, offset = np.array([s0, s1, s1, s0]), np.full(4, wall.offset)
    x, z = (offset, np.maximum(s, NEAREST)) if wall.along else (s, offset)
    _fill(canvas, camera, x, np.array([h0, h0, h1, h1]), z, colour)


def _ground(canvas: np.ndarray, camera: Camera) -> None:
    layout = camera.layout
    _, far_row = camera.project(np.zeros(1), np.zeros(1), np.full(1, layout.far))
    canvas[max(int(far_row[0]), 0):] = layout.paving
    for x0, x1, z0, z1 in layout.roads:
        _ground_rect(canvas, camera, x0, x1, z0, min(z1, layout.far), _ASPHALT)
    if layout.markings:
        _markings(canvas, camera)


def _markings(canvas: np.ndarray, camera: Camera) -> None:
    """A dashed centre line on the main road and a zebra crossing before the cross street."""
    layout = camera.layout
    x0, x1, _, _ = layout.roads[0]
    (near, far) = layout.openings[0]
    paint = (200, 205, 205)
    for z in [*np.arange(1.0, near - 4.0, 6.0), *np.arange(far + 1.0, layout.far, 6.0)]:
        _ground_rect(canvas, camera, -0.08, 0.08, z, z + 3.0, paint)
    for x in np.arange(x0 + 0.3, x1 - 0.3, 1.0):
        _ground_rect(canvas, camera, x, x + 0.5, near - 3.5, near - 0.8, paint)


def _lots(rng: np.random.Generator, start: float, end: float) -> Iterator[tuple[float, float]]:
    """Split a street front into house lots 3.5-5.5 m wide (tube houses); the last one takes what is left."""
    while start < end:
        stop = start + float(rng.uniform(3.5, 5.5))
        stop = end if end - stop < 3.5 else stop
        yield start, stop
        start = stop


def _facades(canvas: np.ndarray, camera: Camera, rng: np.random.Generator) -> None:
    """House fronts, painted far to near: the closing row, then across each cross street, then both sides."""
    layout = camera.layout
    half_view = camera.width / (2 * camera.focal_px)  # half the visible width per metre of depth
    fronts = [(layout.far, 0.0)] + [(far, layout.half_width) for _, far in layout.openings if far < layout.far]
    for depth, gap in fronts:
        reach = depth * half_view + 6.0
        for lo, hi in [(-reach, -gap), (gap, reach)]:
            for s0, s1 in _lots(rng, lo, hi):
                _house(canvas, camera, rng, _Wall(False, depth), s0, s1)
    edges = [NEAREST, *[z for opening in layout.openings for z in opening], layout.far]
    for side in (-1.0, 1.0):
        for start, end in zip(edges[0::2], edges[1::2], strict=True):
            for s0, s1 in _lots(rng, start, end):
                _house(canvas, camera, rng, _Wall(True, side * layout.half_width), s0, s1)


def _house(canvas: np.ndarray, camera: Camera, rng: np.random.Generator, wall: _Wall, s0: float, s1: float) -> None:
    def rect(a: float, b: float, h0: float, h1: float, colour: tuple[int, int, int]) -> None:
        _wall_rect(canvas, camera, wall, a, b, h0, h1, colour)

    def pick(palette: list[tuple[int, int, int]]) -> tuple[int, int, int]:
        return palette[int(rng.integers(len(palette)))]

    floors = int(rng.integers(2, 5))
    top = floors * _FLOOR + 0.6
    colour = pick(_WALLS)
    rect(s0, s1, 0.0, top, colour)
    rect(s0, s1, top - 0.35, top, (colour[0] * 7 // 10, colour[1] * 7 // 10, colour[2] * 7 // 10))  # roof ledge
    front = int(rng.integers(3))
    if front == 0:  # roll-up shutter
        rect(s0 + 0.3, s1 - 0.3, 0.0, 2.7, _METAL)
        for h in np.arange(0.12, 2.7, 0.16):
            rect(s0 + 0.3, s1 - 0.3, h, h + 0.04, _GRILLE)
    elif front == 1:  # open shop with goods and a sign board
        rect(s0 + 0.3, s1 - 0.3, 0.0, 2.7, _INSIDE)
        for h in (0.4, 1.1, 1.8):
            for a in np.arange(s0 + 0.5, s1 - 0.8, 0.6):
                rect(a, a + 0.45, h, h + 0.5, pick(_GOODS))
        rect(s0 + 0.1, s1 - 0.1, 2.8, 3.4, pick(_SIGNS))
        rect(s0 + 0.5, s1 - 0.5, 3.0, 3.15, (235, 235, 235))
    else:  # wooden door
        middle = (s0 + s1) / 2
        rect(middle - 0.7, middle + 0.7, 0.0, 2.3, _WOOD)
    for floor in range(1, floors):
        h0 = floor * _FLOOR
        rect(s0 + 0.8, s1 - 0.8, h0 + 0.9, h0 + 2.4, _GLASS)
        for a in np.arange(s0 + 0.9, s1 - 0.8, 0.25):
            rect(a, a + 0.03, h0 + 0.9, h0 + 2.4, _GRILLE)
        rect(s0 + 0.2, s1 - 0.2, h0 + 0.05, h0 + 0.25, _GRILLE)


def _parked(canvas: np.ndarray, camera: Camera, rng: np.random.Generator) -> None:
    """Rows of parked motorbikes, drawn with the same sprites as the moving ones."""
    spots: list[tuple[float, float, View, int]] = []
    for xa, za, xb, zb, count in camera.layout.parking:
        spots.extend((xa + f * (xb - xa), za + f * (zb - za), _PARKED_VIEWS[int(rng.integers(2))],
                      int(rng.integers(1 << 31))) for f in (np.arange(count) + rng.uniform(0.2, 0.8, count)) / count)
    for x, z, view, look in sorted(spots, key=lambda spot: -spot[1]):
        placed = place(camera, -1, Mover("motorbike", ((x, z),), 0.0, 0.0, look), Pose(x, z, view, 0.0))
        if placed:
            sprites.paint(canvas, placed, sprites.colours(look, parked=True))


def _sky(camera: Camera) -> np.ndarray:
    """A hazy overcast sky, bluer towards the top."""
    rows = np.clip(np.arange(camera.height) / max(camera.horizon_px, 1.0), 0.0, 1.0)[:, None, None]
    top, horizon = np.array([225.0, 200.0, 170.0]), np.array([218.0, 218.0, 214.0])
    gradient = top + (horizon - top) * rows
    return np.broadcast_to(gradient, (camera.height, camera.width, 3)).astype(np.uint8)


def _cables(canvas: np.ndarray, camera: Camera, rng: np.random.Generator) -> None:
    """Sagging overhead cables between the walls, across and along the street."""
    layout = camera.layout
    t = np.linspace(0.0, 1.0, 32)
    for _ in range(int(rng.integers(5, 10))):
        za, zb = rng.uniform(1.5, min(layout.far, 40.0), 2)
        xa = -layout.half_width
        xb = xa if rng.random() < 0.3 else layout.half_width
        ya, yb = rng.uniform(5.0, 7.5, 2)
        sag = rng.uniform(0.2, 1.0) * (1 + abs(zb - za) / 10)
        u, v = camera.project(xa + (xb - xa) * t, ya + (yb - ya) * t - 4 * sag * t * (1 - t), za + (zb - za) * t)
        points = (np.stack([u, v], axis=1) * 16).round().astype(np.int32)
        cv2.polylines(canvas, [points], False, (28, 28, 30), 1, cv2.LINE_AA, 4)


def _weathered(canvas: np.ndarray, sky: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Stains (smooth multiplicative noise), grain, and a lens's slight softness."""
    height, width = sky.shape
    cells = (max(2, width // 24), max(2, height // 24))
    grime = cv2.resize(rng.normal(1.0, 0.05, cells[::-1]).astype(np.float32), (width, height),
                       interpolation=cv2.INTER_CUBIC)
    grain = rng.normal(0.0, 3.0, (height, width)).astype(np.float32)
    grime[sky], grain[sky] = 1.0, 0.0
    weathered = canvas.astype(np.float32) * grime[..., None] + grain[..., None]
    softened: np.ndarray = cv2.GaussianBlur(np.clip(weathered, 0, 255).astype(np.uint8), (0, 0), 0.7)
    return softened
