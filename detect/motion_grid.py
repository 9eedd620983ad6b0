"""Where motion was, coarsely: a grid of 16x9 cells over the picture, the index that motion search reads.

A cell moved at a frame when a confirmed moving blob's box touches it and at least CELL_FRACTION of its
pixels are foreground (differ from the background by more than the camera's threshold, which is 255,
never reached, in masks, outside zones and on the learnt clock overlay). The box keeps out what
detection does not call motion: sensor noise, a lighting change, the clock's digits, insects in the IR
light. A grid is 144 bits, packed row by row into 18 bytes (`np.packbits`: cell 0, the top-left one,
is the high bit of byte 0), and what is stored is the OR of a camera's frames over each wall-clock second.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

import cv2
import numpy as np

from detect.masks import rasterize
from detect.regions import Blob
from detect.settings import Polygon, polygons_problem
from detect.workspace import Workspace

COLUMNS, ROWS = 16, 9
GRID_BYTES = COLUMNS * ROWS // 8
CELL_FRACTION = 0.05  # 5 of a 10x10 cell's work pixels: a blob's edge just grazing a cell does not set it
AREA_SAMPLES = 8  # a drawn area is measured on 8x8 points per cell ...
AREA_COVER = 0.25  # ... and takes the cells it covers by a quarter (a smaller area: the cells it covers most)


class MotionSecond(NamedTuple):
    """The cells where `camera` saw motion during wall-clock second `second` (Unix seconds), packed."""

    camera: str
    second: int
    cells: bytes


class MotionGrid:
    """Motion cells of work pictures of `size` (width, height): the grid must divide it into cells of an even
    number of pixels each way (160x90: 10x10)."""

    def __init__(self, size: tuple[int, int]) -> None:
        width, height = size
        if width % (2 * COLUMNS) or height % (2 * ROWS):
            raise ValueError(f"work size {size} does not divide into the {COLUMNS}x{ROWS} motion grid's cells of an "
                             "even size")
        self._cell = (width // COLUMNS, height // ROWS)
        # the mean of a cell of a 0/255 mask as cv2.resize leaves it, rounded to 8 bits (for 10x10 cells each
        # count of foreground pixels has a mean of its own: the threshold is exact)
        self._least_mean = round(255 * CELL_FRACTION)

    def cells(self, foreground: np.ndarray, moving: Sequence[Sequence[Blob]], space: Workspace) -> np.ndarray:
        """Packed cells (len(moving), GRID_BYTES) of (cameras, H, W) 0/255 foreground masks, camera i moving in
        the boxes of `moving[i]`."""
        count, height, width = foreground.shape
        cell_width, cell_height = self._cell
        # the mean of each cell, by INTER_AREA resizes of the whole stack (cells never straddle two cameras):
        # halving first takes OpenCV's vectorized path, and the two steps cost 0.6 of one
        half = cv2.resize(foreground.reshape(count * height, width), (width // 2, count * height // 2),
                          dst=space.array("motion halves", (count * height // 2, width // 2)),
                          interpolation=cv2.INTER_AREA)
        means = cv2.resize(half, (COLUMNS, count * ROWS), dst=space.array("motion means", (count * ROWS, COLUMNS)),
                           interpolation=cv2.INTER_AREA).reshape(count, ROWS, COLUMNS)
        touched = space.array("motion cells", (count, ROWS, COLUMNS), np.bool_)
        touched[...] = False
        for i, blobs in enumerate(moving):
            for blob in blobs:
                touched[i, blob.y0 // cell_height:(blob.y1 - 1) // cell_height + 1,
                        blob.x0 // cell_width:(blob.x1 - 1) // cell_width + 1] = True
        touched &= means >= self._least_mean
        packed: np.ndarray = np.packbits(touched.reshape(count, -1), axis=1)
        return packed


def area_cells(polygon: Polygon) -> bytes:
    """The packed cells a drawn area (a polygon in 0..1 picture coordinates) covers enough: by AREA_COVER,
    or, for an area smaller than that in every cell, the cells it covers most. ValueError, naming the `area`,
    for fewer than 3 points, points outside 0..1, or a polygon that encloses nothing (its points on a line)."""
    if problem := polygons_problem("area", (polygon,)):
        raise ValueError(problem)
    x, y = np.array(polygon, np.float64).T
    enclosed = abs(float(np.dot(x, np.roll(y, -1)) - np.dot(y, np.roll(x, -1)))) / 2  # the shoelace formula
    inside = rasterize((polygon,), (COLUMNS * AREA_SAMPLES, ROWS * AREA_SAMPLES))
    cover = inside.reshape(ROWS, AREA_SAMPLES, COLUMNS, AREA_SAMPLES).mean(axis=(1, 3))
    best = float(cover.max())
    if enclosed < 1e-9 or best == 0:
        raise ValueError("area: the polygon encloses no part of the picture")
    return np.packbits(cover >= min(AREA_COVER, best)).tobytes()


def cell_list(packed: bytes | np.ndarray) -> list[tuple[int, int]]:
    """The (column, row) of each cell set in a packed grid, row by row."""
    bits = np.unpackbits(np.frombuffer(packed, np.uint8) if isinstance(packed, bytes) else packed)[:COLUMNS * ROWS]
    rows, columns = np.divmod(np.flatnonzero(bits), COLUMNS)
    return list(zip(columns.tolist(), rows.tolist(), strict=True))
