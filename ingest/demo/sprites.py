"""Appearance of people, motorbikes and cars: flat shapes in the object's image box, drawn with OpenCV.

Each sprite is a list of parts in unit box coordinates (0..1 across, 0..1 down), designed facing
right and mirrored for "left". A part whose colour key is missing from the colour map is skipped,
which is how optional things (a conical hat, a passenger, the rider of a parked bike) come and go.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

import cv2
import numpy as np

from ingest.demo.world import STRIDE, Kind, Placement, View

Colour = tuple[float, float, float]  # BGR; for a one-channel canvas only the first value is used
Part = tuple[str, str, tuple[float, ...], float]  # shape, colour key, unit coordinates, line width / box width

IR_WEIGHTS = (0.2, 0.4, 0.4)  # B, G, R: near-infrared reflectance roughly follows red and green
_SHIFT = 4  # sub-pixel bits for cv2 drawing, so slow far objects move smoothly
_SCALE = 1 << _SHIFT

_SKIN: list[Colour] = [(150, 180, 225), (120, 155, 200), (100, 130, 175)]
_HAIR: list[Colour] = [(25, 25, 30), (35, 40, 50)]
_CLOTHES: list[Colour] = [(40, 40, 190), (170, 120, 40), (235, 235, 235), (60, 60, 60), (60, 150, 60),
                          (40, 160, 220), (130, 60, 140), (200, 170, 120), (30, 30, 35), (90, 110, 150)]
_PAINT: list[Colour] = [(30, 30, 200), (200, 200, 205), (25, 25, 28), (160, 90, 30), (150, 150, 150),
                        (40, 120, 200), (235, 235, 240), (60, 80, 40)]
_FIXED: dict[str, Colour] = {"tyre": (28, 28, 30), "glass": (70, 55, 45), "light": (210, 245, 255),
                             "taillight": (40, 40, 220), "plate": (225, 230, 230),
                             "hat": (170, 215, 225)}  # hat: the conical leaf hat (nón lá)
_RIDERS = ("shirt", "trousers", "helmet", "shirt2", "helmet2", "light")  # absent on a parked bike (lamp off)


def colours(look: int, parked: bool = False) -> dict[str, Colour]:
    """The colour map of one object; `look` picks colours and variants (hat, passenger) reproducibly."""
    rng = np.random.default_rng(look)

    def pick(palette: list[Colour]) -> Colour:
        return palette[int(rng.integers(len(palette)))]

    chosen = dict(_FIXED, skin=pick(_SKIN), hair=pick(_HAIR), shirt=pick(_CLOTHES), trousers=pick(_CLOTHES),
                  paint=pick(_PAINT), helmet=pick(_PAINT), shirt2=pick(_CLOTHES), helmet2=pick(_PAINT))
    dropped = set(_RIDERS) if parked else set()
    dropped |= {"hat"} if rng.random() > 0.3 else set()
    dropped |= {"shirt2", "helmet2"} if rng.random() > 0.35 else set()
    return {key: value for key, value in chosen.items() if key not in dropped}


def infrared(colour_map: Mapping[str, Colour]) -> dict[str, Colour]:
    """The same object under infrared light: one grey level per part."""
    return {key: _grey(colour) for key, colour in colour_map.items()}


def _grey(colour: Colour) -> Colour:
    level = float(np.dot(IR_WEIGHTS, colour))
    return level, level, level


def paint(canvas: np.ndarray, placed: Placement, colour_map: Mapping[str, Colour]) -> None:
    """Draw a placed object; nothing outside its visible box changes."""
    pose, box = placed.pose, placed.box
    sprite = _parts(placed.mover.kind, pose.view, 2 * math.pi * pose.travelled / STRIDE)
    _draw(canvas, placed.extent, (box.x0, box.y0, box.x1, box.y1), sprite, colour_map, mirror=pose.view == "left")


def _parts(kind: Kind, view: View, phase: float) -> list[Part]:
    side = view in ("left", "right")
    if kind == "person":
        return _person_side(phase) if side else _person_front(phase, view)
    if kind == "motorbike":
        return _motorbike_side() if side else _motorbike_front(view)
    return _car_side() if side else _car_front(view)


def _person_side(phase: float) -> list[Part]:
    s = math.sin(phase)
    return [("line", "trousers", (0.5, 0.56, 0.5 + 0.2 * s, 0.96), 0.2),
            ("line", "trousers", (0.5, 0.56, 0.5 - 0.2 * s, 0.96), 0.2),
            ("poly", "shirt", (0.34, 0.18, 0.66, 0.18, 0.64, 0.6, 0.36, 0.6), 0),
            ("line", "shirt", (0.5, 0.22, 0.5 - 0.16 * s, 0.5), 0.14),
            ("ellipse", "skin", (0.54, 0.1, 0.2, 0.08), 0),
            ("poly", "hat", (0.52, 0.0, 0.08, 0.1, 0.96, 0.1), 0)]


def _person_front(phase: float, view: View) -> list[Part]:
    lift = 0.04 * math.sin(phase)
    return [("line", "trousers", (0.4, 0.56, 0.4, 0.96 - max(lift, 0)), 0.18),
            ("line", "trousers", (0.6, 0.56, 0.6, 0.96 + min(lift, 0)), 0.18),
            ("poly", "shirt", (0.2, 0.18, 0.8, 0.18, 0.74, 0.6, 0.26, 0.6), 0),
            ("line", "shirt", (0.16, 0.22, 0.12, 0.52 + lift), 0.12),
            ("line", "shirt", (0.84, 0.22, 0.88, 0.52 - lift), 0.12),
            ("ellipse", "skin" if view == "toward" else "hair", (0.5, 0.1, 0.17, 0.08), 0),
            ("poly", "hat", (0.5, 0.0, 0.04, 0.1, 0.96, 0.1), 0)]


def _motorbike_side() -> list[Part]:
    return [("ellipse", "tyre", (0.18, 0.82, 0.15, 0.17), 0), ("ellipse", "tyre", (0.82, 0.82, 0.15, 0.17), 0),
            ("poly", "paint", (0.06, 0.62, 0.3, 0.5, 0.72, 0.52, 0.86, 0.42, 0.92, 0.6, 0.7, 0.76, 0.3, 0.76), 0),
            ("poly", "shirt2", (0.22, 0.52, 0.36, 0.52, 0.4, 0.2, 0.27, 0.2), 0),
            ("ellipse", "helmet2", (0.33, 0.14, 0.08, 0.08), 0),
            ("line", "trousers", (0.5, 0.5, 0.64, 0.72), 0.07),
            ("poly", "shirt", (0.4, 0.52, 0.58, 0.52, 0.6, 0.16, 0.46, 0.16), 0),
            ("line", "shirt", (0.56, 0.22, 0.82, 0.38), 0.05),
            ("ellipse", "helmet", (0.53, 0.09, 0.09, 0.08), 0),
            ("ellipse", "light", (0.9, 0.46, 0.03, 0.04), 0)]


def _motorbike_front(view: View) -> list[Part]:
    lamp = "light" if view == "toward" else "taillight"
    return [("ellipse", "tyre", (0.5, 0.84, 0.1, 0.15), 0),
            ("poly", "paint", (0.24, 0.5, 0.76, 0.5, 0.66, 0.8, 0.34, 0.8), 0),
            ("poly", "shirt", (0.2, 0.2, 0.8, 0.2, 0.74, 0.56, 0.26, 0.56), 0),
            ("line", "tyre", (0.06, 0.42, 0.94, 0.42), 0.05),
            ("ellipse", "helmet", (0.5, 0.1, 0.2, 0.09), 0),
            ("ellipse", lamp, (0.5, 0.62, 0.09, 0.04), 0)]


def _car_side() -> list[Part]:
    return [("poly", "paint", (0.0, 0.46, 0.22, 0.42, 0.32, 0.12, 0.72, 0.12, 0.85, 0.42, 1.0, 0.5, 1.0, 0.84,
                               0.0, 0.84), 0),
            ("poly", "glass", (0.35, 0.17, 0.7, 0.17, 0.8, 0.41, 0.3, 0.41), 0),
            ("ellipse", "tyre", (0.2, 0.83, 0.08, 0.16), 0), ("ellipse", "tyre", (0.8, 0.83, 0.08, 0.16), 0),
            ("ellipse", "light", (0.98, 0.55, 0.02, 0.04), 0), ("ellipse", "taillight", (0.015, 0.55, 0.015, 0.05), 0)]


def _car_front(view: View) -> list[Part]:
    lamp = "light" if view == "toward" else "taillight"
    return [("poly", "tyre", (0.03, 0.8, 0.17, 0.8, 0.17, 1.0, 0.03, 1.0), 0),
            ("poly", "tyre", (0.83, 0.8, 0.97, 0.8, 0.97, 1.0, 0.83, 1.0), 0),
            ("poly", "paint", (0.12, 0.0, 0.88, 0.0, 0.96, 0.42, 1.0, 0.46, 1.0, 0.88, 0.0, 0.88, 0.0, 0.46,
                               0.04, 0.42), 0),
            ("poly", "glass", (0.16, 0.1, 0.84, 0.1, 0.9, 0.4, 0.1, 0.4), 0),
            ("ellipse", lamp, (0.12, 0.56, 0.08, 0.05), 0), ("ellipse", lamp, (0.88, 0.56, 0.08, 0.05), 0),
            ("poly", "plate", (0.4, 0.66, 0.6, 0.66, 0.6, 0.76, 0.4, 0.76), 0)]


def _draw(canvas: np.ndarray, extent: tuple[float, float, float, float], region: tuple[int, int, int, int],
         sprite: list[Part], colour_map: Mapping[str, Colour], mirror: bool) -> None:
    """Draw `sprite` scaled to `extent` (u0, v0, u1, v1), touching only the pixels of `region` (x0, y0, x1, y1)."""
    x0, y0, x1, y1 = region
    view = canvas[y0:y1, x0:x1]
    u0, v0, u1, v1 = extent
    width, height = u1 - u0, v1 - v0

    def points(coords: tuple[float, ...]) -> np.ndarray:
        # plain floats: a sprite's few points cost more as NumPy arrays (the demo cameras draw every frame)
        xs = [1 - x for x in coords[0::2]] if mirror else coords[0::2]
        return np.array([(round((u0 - x0 + x * width) * _SCALE), round((v0 - y0 + y * height) * _SCALE))
                         for x, y in zip(xs, coords[1::2], strict=True)], np.int32)

    for shape, key, coords, line_width in sprite:
        colour = colour_map.get(key)
        if colour is None:
            continue
        if shape == "poly":
            cv2.fillPoly(view, [points(coords)], colour, cv2.LINE_AA, _SHIFT)
        elif shape == "line":
            a, b = points(coords).tolist()
            thickness = max(1, round(line_width * width))
            cv2.line(view, a, b, colour, thickness, cv2.LINE_AA, _SHIFT)
        else:
            centre = points(coords[:2])[0].tolist()
            axes = (round(coords[2] * width * _SCALE), round(coords[3] * height * _SCALE))
            cv2.ellipse(view, centre, axes, 0, 0, 360, colour, -1, cv2.LINE_AA, _SHIFT)
