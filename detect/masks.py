"""Normalized polygons to pixel masks at work resolution."""

from __future__ import annotations

import cv2
import numpy as np

from detect.settings import CameraDetectSettings, Polygon


def rasterize(polygons: tuple[Polygon, ...], size: tuple[int, int]) -> np.ndarray:
    """A bool (height, width) mask of the pixels whose centres fall inside any of the polygons."""
    width, height = size
    canvas = np.zeros((height, width), np.uint8)
    shift = 4  # sub-pixel precision of cv2.fillPoly
    for polygon in polygons:
        points = np.array([(x * width - 0.5, y * height - 0.5) for x, y in polygon]) * (1 << shift)
        cv2.fillPoly(canvas, [points.round().astype(np.int32)], 1, lineType=cv2.LINE_8, shift=shift)
    return canvas.astype(bool)


def watched(settings: CameraDetectSettings, size: tuple[int, int]) -> np.ndarray:
    """Where motion may be detected: inside the zones (all if none), outside masks and explicit overlays."""
    width, height = size
    inside = rasterize(settings.zones, size) if settings.zones else np.ones((height, width), bool)
    hidden = settings.masks + (settings.overlay if not isinstance(settings.overlay, str) else ())
    mask: np.ndarray = inside & ~rasterize(hidden, size)
    return mask
