"""Motion search: the moments a camera saw motion inside a drawn area, from the motion grids in the catalog.

The drawn area is a mask of grid cells (`detect.motion_grid.area_cells`); each stored second is tested
against it with one NumPy AND over all of them, and the seconds that match are merged into ranges.
Nothing is decoded: a camera-day is one indexed catalog read of at most 1,440 rows.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np

from detect.motion_grid import COLUMNS, ROWS
from storage.motion_grids import MotionGridStore

CHUNK_SECONDS = 86_400  # see motion_per_cell
MERGE_GAP_SECONDS = 2  # seconds with motion separated by fewer quiet seconds than this are one range


@dataclass(frozen=True)
class MotionRange:
    start_ms: int
    end_ms: int
    cells: bytes  # packed: the cells of the area where motion was during the range


@dataclass(frozen=True)
class MotionSearchResult:
    ranges: list[MotionRange]  # earliest first, at most the limit asked for
    truncated: bool  # more ranges matched than the limit
    elapsed: float  # seconds the search took (catalog read, bit tests, merging)


def search_motion(store: MotionGridStore, camera: str, start_ms: int, end_ms: int, area: bytes,
                  limit: int) -> MotionSearchResult:
    """Ranges of motion inside `area` (packed cells) on `camera` within [start_ms, end_ms)."""
    started = time.perf_counter()
    grids = store.grids(camera, start_ms, end_ms)
    hits = grids.cells & np.frombuffer(area, np.uint8)
    matched = np.flatnonzero(hits.any(axis=1))
    seconds, hits = grids.seconds[matched], hits[matched]
    firsts = np.flatnonzero(np.diff(seconds, prepend=seconds[:1] - MERGE_GAP_SECONDS - 1) > MERGE_GAP_SECONDS)
    ends = np.append(firsts[1:], len(seconds))[:len(firsts)]  # one past each range's last second
    truncated = len(firsts) > limit
    firsts, ends = firsts[:limit], ends[:limit]
    cells = np.bitwise_or.reduceat(hits[:ends[-1]], firsts, axis=0) if len(firsts) else hits[:0]
    ranges = [MotionRange(max(start_ms, first * 1000), min(end_ms, (last + 1) * 1000), row.tobytes())
              for first, last, row in zip(seconds[firsts].tolist(), seconds[ends - 1].tolist(), cells, strict=True)]
    return MotionSearchResult(ranges, truncated, time.perf_counter() - started)


def motion_per_cell(store: MotionGridStore, camera: str, start_ms: int, end_ms: int) -> tuple[int, np.ndarray]:
    """How many seconds `camera` saw motion within [start_ms, end_ms), and in how many of them each cell of the grid
    moved, (ROWS, COLUMNS): a cell moving most of those seconds is a place that never rests (the sea's foam, a
    crown of leaves, a flag) more often than one that people cross."""
    grids = store.grids(camera, start_ms, end_ms)
    counts = np.zeros(COLUMNS * ROWS, np.int64)
    for first in range(0, len(grids.cells), CHUNK_SECONDS):  # unpacked a day at a time: a week is 87 MB at once
        bits = np.unpackbits(grids.cells[first:first + CHUNK_SECONDS], axis=1)[:, :COLUMNS * ROWS]
        counts += bits.sum(axis=0, dtype=np.int64)
    return len(grids.seconds), counts.reshape(ROWS, COLUMNS)
