"""Motion grids in the catalog: where each camera saw motion, one row per camera and minute that had some.

A row holds a 60-bit mask of the minute's seconds with motion and, for each of them in order, its 18-byte
grid (`detect.motion_grid`): a quiet minute costs nothing, a minute of constant motion 1,080 bytes.
Seconds arrive in batches and are OR-ed into their rows, so a minute written again (the writer's next
batch, a restart) only ever gains cells. Like the index, the store sees only its own station's rows.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
from sqlalchemy import and_, delete, false, func, or_, select

from detect.motion_grid import GRID_BYTES, MotionSecond
from storage.clock_steps import ClockSteps, stamped_in
from storage.index import RecordingIndex
from storage.models import CameraRow, MotionGridRow, SegmentRow

MINUTE_MS = 60_000
_BITS = np.arange(60, dtype=np.uint64)


@dataclass(frozen=True)
class MotionGrids:
    """Seconds with motion (Unix seconds, ascending) and their packed grids, (len(seconds), GRID_BYTES)."""

    seconds: np.ndarray
    cells: np.ndarray


def _minute(mask: int, cells: bytes) -> np.ndarray:
    """A row's contents as a (60, GRID_BYTES) array, zero in the seconds without motion."""
    grids = np.zeros((60, GRID_BYTES), np.uint8)
    grids[(np.uint64(mask) >> _BITS) & np.uint64(1) == 1] = np.frombuffer(cells, np.uint8).reshape(-1, GRID_BYTES)
    return grids


def _row_values(grids: np.ndarray) -> tuple[int, bytes]:
    """(seconds mask, cells) of a (60, GRID_BYTES) minute."""
    moved = grids.any(axis=1)
    return int((moved.astype(np.uint64) << _BITS).sum()), grids[moved].tobytes()


class MotionGridStore:
    def __init__(self, index: RecordingIndex) -> None:
        self._index = index
        self._ours = MotionGridRow.station == index.station

    def add(self, seconds: Iterable[MotionSecond]) -> None:
        """OR the seconds' cells into their minutes' rows, in one transaction."""
        seconds = list(seconds)
        placed = self._index.placement([camera for camera, _second, _cells in seconds])  # by time: they may have
        by_id: dict[tuple[int, int], np.ndarray] = {}  # waited for the catalog since before a camera's removal
        for camera, second, cells in seconds:
            key = (placed[camera](second * 1000), second // 60 * MINUTE_MS)
            grids = by_id.setdefault(key, np.zeros((60, GRID_BYTES), np.uint8))
            grids[second % 60] |= np.frombuffer(cells, np.uint8)
        with self._index.session() as session, session.begin():
            # two lists the key's index can seek with, not the pairs: SQLite scanned the whole table for
            # `(camera_id, minute_ms) IN (VALUES ...)` (2.7 million rows a month of 200 cameras: 5-9 s a flush)
            stored = session.scalars(select(MotionGridRow).where(
                self._ours, MotionGridRow.camera_id.in_({camera_id for camera_id, _minute_ms in by_id}),
                MotionGridRow.minute_ms.in_({minute_ms for _camera_id, minute_ms in by_id})))
            for row in stored:
                if (row.camera_id, row.minute_ms) in by_id:  # not another camera's minute that both lists hold
                    row.seconds, row.cells = _row_values(by_id.pop((row.camera_id, row.minute_ms))
                                                         | _minute(row.seconds, row.cells))
            for (camera_id, minute_ms), grids in by_id.items():  # the minutes not stored yet
                mask, cells = _row_values(grids)
                session.add(MotionGridRow(station=self._index.station, camera_id=camera_id, minute_ms=minute_ms,
                                          seconds=mask, cells=cells))

    def grids(self, camera: str, start_ms: int, end_ms: int) -> MotionGrids:
        """The seconds with motion of `camera` overlapping [start_ms, end_ms)."""
        query = (select(MotionGridRow.minute_ms, MotionGridRow.seconds, MotionGridRow.cells)
                 .where(self._ours, MotionGridRow.camera_id == self._index.camera_id(camera),
                        MotionGridRow.minute_ms > start_ms - MINUTE_MS, MotionGridRow.minute_ms < end_ms)
                 .order_by(MotionGridRow.minute_ms))
        with self._index.session() as session:
            rows = session.execute(query).all()
        if not rows:
            return MotionGrids(np.zeros(0, np.int64), np.zeros((0, GRID_BYTES), np.uint8))
        minutes, masks, blobs = zip(*rows, strict=True)
        present = (np.array(masks, np.uint64)[:, None] >> _BITS) & np.uint64(1) == 1
        row, second = np.nonzero(present)  # row by row, seconds ascending: the order of the grids in the blobs
        seconds = np.array(minutes, np.int64)[row] // 1000 + second
        cells = np.frombuffer(b"".join(blobs), np.uint8).reshape(-1, GRID_BYTES)
        inside = (seconds * 1000 < end_ms) & (seconds * 1000 + 1000 > start_ms)
        return MotionGrids(seconds[inside], cells[inside])

    def forget(self, steps: ClockSteps, before_ms: int) -> None:
        """Delete the grids older than the footage kept: per camera, the minutes that end by its oldest
        segment's start (a camera with no footage left: by the station's oldest), and any that ends by `before_ms`
        in real time. A minute across the beginning or the end of a step's span goes only once both its start and
        its end are that old (by its end alone, its seconds before a step went at once)."""
        station = self._index.station
        aged = and_(stamped_in(MotionGridRow.minute_ms, steps.older_than(before_ms - MINUTE_MS)),
                    stamped_in(MotionGridRow.minute_ms + MINUTE_MS, steps.older_than(before_ms)))
        with self._index.session() as session, session.begin():
            oldest = dict(session.execute(select(SegmentRow.camera_id, func.min(SegmentRow.start_ms))
                                          .where(SegmentRow.station == station).group_by(SegmentRow.camera_id)).all())
            fallback = min(oldest.values(), default=None)
            for camera_id in session.scalars(select(CameraRow.id).where(CameraRow.station == station)):
                cutoff = oldest.get(camera_id, fallback)
                before_footage = false() if cutoff is None else MotionGridRow.minute_ms <= cutoff - MINUTE_MS
                session.execute(delete(MotionGridRow).where(self._ours, MotionGridRow.camera_id == camera_id,
                                                            or_(before_footage, aged)))

