"""Reconciliation at scale: a post whose disk was replaced starts on a catalog whose files are gone."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

from sqlalchemy import event

from storage.index import DELETED_AT_ONCE, RecordingIndex, Segment
from storage.reconcile import reconcile

PER_CAMERA = 6_000


def test_a_new_disks_missing_rows_are_dropped_in_the_tables_order_thousands_to_a_statement(database_url: str,
                                                                                          tmp_path: Path) -> None:
    """Each row whose file was gone was deleted in a statement and a transaction of its own, after every such row's
    path had been read into memory: 72,000 rows took 35 s, a 200-camera post's month (8.6 million) would take over
    an hour and gigabytes. A camera at a time, its rows lying among every other camera's, rewrote each page once per
    camera. The files still there keep their rows."""
    index = RecordingIndex(database_url, "post")
    segments_dir = tmp_path / "segments"
    index.add_segments([Segment(camera, f"{camera}/2026-12-01/{n}.mp4", n * 60_000, (n + 1) * 60_000, 10, (0,))
                        for n in range(PER_CAMERA) for camera in ("a", "b", "c")])  # interleaved, as recorded
    kept = [f"c/2026-12-01/{n}.mp4" for n in range(PER_CAMERA - 10, PER_CAMERA)]
    (segments_dir / "c" / "2026-12-01").mkdir(parents=True)
    for path in kept:
        (segments_dir / path).write_bytes(b"")
    deletes: list[list[Any]] = []  # the values of each DELETE statement

    def heard(_conn: Any, _cursor: Any, statement: str, parameters: Any, *_rest: Any) -> None:
        if statement.lstrip().upper().startswith("DELETE"):
            deletes.append(list(parameters.values() if isinstance(parameters, dict) else parameters))

    event.listen(index.engine, "before_cursor_execute", heard)
    report = reconcile(index, segments_dir)
    assert report.dropped_rows == 3 * PER_CAMERA - len(kept)
    assert [s.path for s in index.all_segments()] == kept
    assert len(deletes) <= math.ceil(3 * PER_CAMERA / DELETED_AT_ONCE), len(deletes)
    deleted = [value for parameters in deletes for value in parameters if isinstance(value, int)]
    assert len(deleted) == report.dropped_rows and deleted == sorted(deleted), "in the table's order"
    index.close()


def test_a_restart_reads_each_path_once_and_looks_up_only_the_files_no_row_names(tmp_path: Path) -> None:
    """After a power cut every file has its row but the one being written. Each folder's files were looked up in the
    catalog again, after the camera's rows had been read: every path read twice. Now a camera's rows and files are
    compared, and only a file they do not name is looked up (under any camera: a removed camera's footage may lie
    in the folder of a camera that took its name)."""
    index = RecordingIndex(f"sqlite:///{tmp_path / 'nvr.db'}", "post")
    segments_dir = tmp_path / "segments"
    paths = [f"{camera}/2026-12-01/{1_795_000_000_000 + n * 60_000}.mp4" for camera in ("a", "b") for n in range(300)]
    index.add_segments([Segment(path.split("/")[0], path, int(path[-17:-4]), int(path[-17:-4]) + 60_000, 10, (0,))
                        for path in paths])
    for path in paths:
        (segments_dir / path).parent.mkdir(parents=True, exist_ok=True)
        (segments_dir / path).write_bytes(b"")
    (segments_dir / "a" / "2026-12-01" / "1795000000000.mp4.part").write_bytes(b"")  # not a segment
    looked_up: list[str] = []  # each SELECT by path

    def heard(_conn: Any, _cursor: Any, statement: str, *_rest: Any) -> None:
        if "segments.path IN" in statement:
            looked_up.append(statement)

    event.listen(index.engine, "before_cursor_execute", heard)
    report = reconcile(index, segments_dir)
    assert report.dropped_rows == 0 and report.indexed == [] and report.removed_files == []
    assert not looked_up, "every file is named by its camera's rows"
    index.close()
