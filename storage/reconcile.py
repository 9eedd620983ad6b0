"""Startup reconciliation of files and index rows, in both directions.

A row whose file is gone is removed; a segment file with no row (the one being written when the
process died, or one whose row could not be written) is probed, hashed and indexed: its hash is then
taken at this start, not as it was written.
"""

from __future__ import annotations

import logging
import os
from array import array
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from storage.custody import sha256_file
from storage.index import RecordingIndex, Segment
from storage.layout import parse_relpath
from storage.probe import probe_segment

log = logging.getLogger(__name__)


@dataclass
class ReconcileReport:
    indexed: list[str] = field(default_factory=list)  # orphan files now in the index
    dropped_rows: int = 0  # rows whose file was missing (a new disk: millions, not listed)
    removed_files: list[str] = field(default_factory=list)  # our files with nothing readable in them


def reconcile(index: RecordingIndex, segments_dir: Path, cameras: set[str] | None = None,
              leaving: frozenset[str] = frozenset(), cancelled: Callable[[], bool] = lambda: False,
              recording: Callable[[str], bool] = lambda _relpath: False) -> ReconcileReport:
    """Both directions, for every camera but those `leaving` to their recorders, or only those in `cameras` (a
    recorder's own), never touching the files `recording` says the caller's run opened (a recorder's: they are
    being written, or their rows are on their way; told by their stamps, those written after the clock was set back
    passed for files left behind). `cancelled` is asked between cameras: a recorder stopping leaves the rest for its
    next start.

    A camera's rows and files at a time (a month is 43,200 of each), never the whole catalog nor every file in
    memory: a post of 200 cameras keeps about 10 million segments, whose rows read at once took 12 GB and 40 minutes
    (2026-11-30, an audit). Only the ids of the rows whose file is gone are kept for all cameras, 8 bytes each. A
    file the camera's rows do not name is looked up under every camera; the others are not looked up again.
    """
    report = ReconcileReport()
    missing = array("q")  # 8 bytes a row: a month of 200 cameras whose disk was replaced is 69 MB
    checked: set[str] = set()
    for camera, rows in index.segment_paths(cameras, excluding=leaving):
        if cancelled():
            return report
        folders = _Folders(segments_dir)  # a camera's: its rows come together
        missing.extend(row_id for row_id, path in rows if not folders.holds(path))
        recorded = {path for _row_id, path in rows}
        _index_orphans(index, segments_dir, [relpath for day in folders.days(camera) for relpath in folders.files(day)
                                             if relpath not in recorded and not recording(relpath)], report)
        checked.add(camera)
    if missing:
        _delete_in_id_order(index, missing)
    report.dropped_rows = len(missing)
    # the folders of no camera of the catalog: every file there is looked up
    folders = _Folders(segments_dir)
    named = cameras if cameras is not None else {found.name for found in segments_dir.glob("*") if found.is_dir()}
    for camera in sorted(named - checked - leaving):
        for day in folders.days(camera):
            _index_orphans(index, segments_dir, [relpath for relpath in folders.files(day) if not recording(relpath)],
                           report)
    if report.indexed or report.dropped_rows or report.removed_files:
        log.info("reconciled: %d files indexed, %d rows without file dropped, %d empty files removed",
                 len(report.indexed), report.dropped_rows, len(report.removed_files))
    return report


def _index_orphans(index: RecordingIndex, segments_dir: Path, relpaths: list[str], report: ReconcileReport) -> None:
    """Index the files of `relpaths` that no row has, under any camera (a removed camera's footage, set aside when
    its name was taken again, is in its folder)."""
    known = index.indexed(relpaths)
    for relpath in relpaths:
        if relpath not in known and (parsed := parse_relpath(relpath)) is not None:
            _index_orphan(index, segments_dir / relpath, relpath, *parsed, report)


def _index_orphan(index: RecordingIndex, path: Path, relpath: str, camera: str, start_ms: int,
                  report: ReconcileReport) -> None:
    """A file with no row: indexed with the hash it has now, or removed when nothing in it can be read."""
    probe = probe_segment(path)
    if probe.packets == 0:
        path.unlink(missing_ok=True)
        report.removed_files.append(relpath)
        return
    index.add_segment(Segment(camera, relpath, start_ms, start_ms + probe.duration_ms, path.stat().st_size,
                              probe.keyframes_ms, sha256=sha256_file(path)))
    report.indexed.append(relpath)


class _Folders:
    """The segment files of the folders looked at, each listed once."""

    def __init__(self, segments_dir: Path) -> None:
        self._dir = segments_dir
        self._names: dict[str, set[str]] = {}

    def days(self, camera: str) -> list[str]:
        """A camera's day folders, in order."""
        return sorted(f"{camera}/{day.name}" for day in (self._dir / camera).glob("*") if day.is_dir())

    def files(self, folder: str) -> list[str]:
        """The segment files of a folder, by name."""
        return [f"{folder}/{name}" for name in sorted(self._listed(folder))]

    def holds(self, relpath: str) -> bool:
        folder, _, name = relpath.rpartition("/")
        return name in self._listed(folder)

    def _listed(self, folder: str) -> set[str]:
        if folder not in self._names:
            try:
                self._names[folder] = {name for name in os.listdir(self._dir / folder) if name.endswith(".mp4")}
            except (FileNotFoundError, NotADirectoryError):
                self._names[folder] = set()
        return self._names[folder]


def _delete_in_id_order(index: RecordingIndex, missing: array[int]) -> None:
    """Delete the rows in the order of their ids, which is the table's: a camera's rows lie among every other
    camera's, and deleting them a camera at a time rewrote each page of the table once per camera (2 million rows:
    160 s). NumPy sorts them, imported here: the supervisor runs a reconcile at every start, most often with
    nothing to delete, and needs NumPy for nothing else."""
    import numpy

    ordered = numpy.frombuffer(missing, dtype=numpy.int64)
    ordered.sort()
    index.delete_segments(map(int, ordered))  # Python numbers (36 bytes each) a batch at a time
