"""Geometry of the synthetic scenes: street layouts, the camera, moving objects and their image boxes.

World coordinates are metres on a flat ground: x to the right, z away from the camera (depth), y up.
The camera looks straight along +z from height `camera_height`; a pinhole with the horizon at a fixed
row. Side walls stand at x = ±half_width except in `openings` (cross streets), where the corner walls
hide whatever is outside the street seen between them.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from itertools import pairwise
from typing import Literal

import numpy as np

Kind = Literal["person", "motorbike", "car"]
View = Literal["left", "right", "toward", "away"]
Place = Literal["alley", "crossroad", "shopfront"]

NEAREST = 0.3  # m; points closer than this are projected as if this close (they are off-screen anyway)
SIZES: dict[Kind, tuple[float, float, float]] = {  # width, length, height (m); a motorbike includes its rider
    "person": (0.5, 0.6, 1.65),
    "motorbike": (0.75, 1.9, 1.6),
    "car": (1.8, 4.3, 1.5),
}
STRIDE = 1.3  # m walked per leg cycle


_TILES = (110, 122, 150)  # BGR of pavement tiles
_CONCRETE = (125, 130, 130)  # BGR of an alley's concrete


@dataclass(frozen=True)
class Layout:
    """A street as seen by one camera (lengths in metres, image proportions as fractions)."""

    horizon: float  # horizon row / frame height
    focal: float  # focal length / frame width
    camera_height: float
    half_width: float  # side walls at x = ±half_width
    far: float  # depth of the facades that close the view
    paving: tuple[int, int, int]  # BGR of the ground outside the roads
    roads: tuple[tuple[float, float, float, float], ...] = ()  # asphalt rectangles (x0, x1, z0, z1)
    openings: tuple[tuple[float, float], ...] = ()  # depth ranges without side walls (cross streets)
    parking: tuple[tuple[float, float, float, float, int], ...] = ()  # parked bikes: (xa, za, xb, zb, count)
    markings: bool = False  # centre line on the first road, zebra crossing before the first opening


LAYOUTS: dict[Place, Layout] = {
    "alley": Layout(horizon=0.3, focal=0.55, camera_height=3.5, half_width=1.8, far=34.0, paving=_CONCRETE,
                    openings=((30.0, 34.0),), parking=((-1.35, 5.0, -1.35, 26.0, 3), (1.35, 8.0, 1.35, 22.0, 2))),
    "crossroad": Layout(horizon=0.33, focal=0.55, camera_height=5.0, half_width=10.0, far=120.0, paving=_TILES,
                        roads=((-7.0, 7.0, 0.0, 120.0), (-300.0, 300.0, 25.0, 31.0)), openings=((22.0, 34.0),),
                        parking=((8.8, 12.0, 8.8, 20.0, 3),), markings=True),
    "shopfront": Layout(horizon=0.3, focal=0.55, camera_height=4.0, half_width=80.0, far=16.0, paving=_TILES,
                        roads=((-300.0, 300.0, 0.0, 12.0),), parking=((-9.0, 14.8, 9.0, 14.8, 7),)),
}


@dataclass(frozen=True)
class Mover:
    """Something that walks or drives along `path` (ground points (x, z), m) at `speed` m/s from `start` s."""

    kind: Kind
    path: tuple[tuple[float, float], ...]
    start: float
    speed: float
    look: int = 0  # seeds its colours and variant (hat, passenger)


@dataclass(frozen=True)
class Pose:
    x: float
    z: float
    view: View
    travelled: float  # m since the start of the path (animates walking)


@dataclass(frozen=True)
class Box:
    """Ground truth: where mover number `mover` shows in the frame; pixels [x0, x1) x [y0, y1)."""

    mover: int
    kind: Kind
    x0: int
    y0: int
    x1: int
    y1: int


@dataclass(frozen=True)
class Placement:
    """A mover in one frame: its pose, its full (unclipped) image box and the visible part of it."""

    mover: Mover
    pose: Pose
    extent: tuple[float, float, float, float]  # u0, v0, u1, v1 in pixels, may reach outside the frame
    box: Box


@dataclass(frozen=True)
class Camera:
    width: int
    height: int
    layout: Layout

    @property
    def focal_px(self) -> float:
        return self.layout.focal * self.width

    @property
    def horizon_px(self) -> float:
        return self.layout.horizon * self.height

    def project(self, x: np.ndarray, y: np.ndarray, z: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Image (u, v) of world points; works elementwise on arrays."""
        depth = np.maximum(z, NEAREST)
        u = self.width / 2 + self.focal_px * x / depth
        v = self.horizon_px + self.focal_px * (self.layout.camera_height - y) / depth
        return u, v

    def visible_columns(self, z: float) -> tuple[float, float]:
        """Columns where an object at depth z can be seen: inside a cross street, only between the corners."""
        for near, far in self.layout.openings:
            if near < z < far:
                half = self.focal_px * self.layout.half_width / near
                return self.width / 2 - half, self.width / 2 + half
        return 0.0, float(self.width)

    def extent(self, kind: Kind, pose: Pose) -> tuple[float, float, float, float]:
        """Image bounds (u0, v0, u1, v1) of the object's bounding cuboid."""
        width, length, height = SIZES[kind]
        across, along = (length, width) if pose.view in ("left", "right") else (width, length)
        # eight corners in plain floats (`project`'s formula): as NumPy arrays this was a fifth of drawing a frame
        us: list[float] = []
        vs: list[float] = []
        for z in (pose.z - along / 2, pose.z + along / 2):
            depth = max(z, NEAREST)
            us.extend(self.width / 2 + self.focal_px * x / depth for x in (pose.x - across / 2, pose.x + across / 2))
            vs.extend(self.horizon_px + self.focal_px * (self.layout.camera_height - y) / depth for y in (0.0, height))
        return min(us), min(vs), max(us), max(vs)


def locate(mover: Mover, t: float) -> Pose | None:
    """Where the mover is at time t, or None before it starts and after it has finished its path."""
    remaining = (t - mover.start) * mover.speed
    if remaining < 0:
        return None
    travelled = remaining
    for (x0, z0), (x1, z1) in pairwise(mover.path):
        length = math.hypot(x1 - x0, z1 - z0)
        if length > 0 and remaining <= length:
            f = remaining / length
            return Pose(x0 + f * (x1 - x0), z0 + f * (z1 - z0), _view(x1 - x0, z1 - z0), travelled)
        remaining -= length
    return None


def path_length(path: tuple[tuple[float, float], ...]) -> float:
    return sum(math.hypot(x1 - x0, z1 - z0) for (x0, z0), (x1, z1) in pairwise(path))


def _view(dx: float, dz: float) -> View:
    if abs(dx) >= abs(dz):
        return "right" if dx > 0 else "left"
    return "away" if dz > 0 else "toward"


def place(camera: Camera, index: int, mover: Mover, pose: Pose) -> Placement | None:
    """The mover's placement in the frame, or None when no part of it is visible."""
    extent = camera.extent(mover.kind, pose)
    u0, v0, u1, v1 = extent
    c0, c1 = camera.visible_columns(pose.z)
    x0, x1 = max(math.floor(u0), math.ceil(c0), 0), min(math.ceil(u1), math.floor(c1), camera.width)
    y0, y1 = max(math.floor(v0), 0), min(math.ceil(v1), camera.height)
    if x0 >= x1 or y0 >= y1:
        return None
    return Placement(mover, pose, extent, Box(index, mover.kind, x0, y0, x1, y1))


def placements(camera: Camera, movers: tuple[Mover, ...], t: float) -> list[Placement]:
    """Visible movers at time t, farthest first (the order to paint them in)."""
    found = []
    for index, mover in enumerate(movers):
        pose = locate(mover, t)
        placed = place(camera, index, mover, pose) if pose else None
        if placed:
            found.append(placed)
    return sorted(found, key=lambda p: -p.pose.z)
