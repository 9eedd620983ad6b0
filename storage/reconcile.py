"""Startup reconciliation of files and index rows, in both directions.

A row whose file is gone is removed; a segment file with no row (the one being written when the
process died, or one whose row could not be written) is probed, hashed and indexed: its hash is then
taken at this start, not as it was written.
"""

from __future__ import annotations

import logging
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
    dropped_rows: list[str] = field(default_factory=list)  # rows whose file was missing
    removed_files: list[str] = field(default_factory=list)  # our files with nothing readable in them


def reconcile(index: RecordingIndex, segments_dir: Path, cameras: set[str] | None = None,
              before_ms: dict[str, int] | None = None) -> ReconcileReport:
    """Both directions, for every camera or only those in `cameras` (a restarted recorder's own); with
    `before_ms`, only the files of each camera that began before its instant there (the ones after are being
    recorded)."""
    report = ReconcileReport()
    known: set[str] = set()
    for segment in index.all_segments(cameras):
        if (segments_dir / segment.path).exists():
            known.add(segment.path)
        else:
            assert segment.id is not None
            index.delete_segment(segment.id)
            report.dropped_rows.append(segment.path)
    folders = sorted(cameras) if cameras is not None else ["*"]
    files = {path.relative_to(segments_dir).as_posix(): path
             for folder in folders for path in segments_dir.glob(f"{folder}/*/*.mp4")}
    # under any camera: a removed camera's footage, set aside when its name was taken again, is in its folder
    known |= index.indexed(sorted(set(files) - known)) if cameras is not None else set()
    for relpath, path in sorted(files.items()):
        parsed = parse_relpath(relpath)
        if relpath in known or parsed is None:
            continue
        camera, start_ms = parsed
        if before_ms is not None and start_ms >= before_ms.get(camera, 0):
            continue
        probe = probe_segment(path)
        if probe.packets == 0:
            path.unlink(missing_ok=True)
            report.removed_files.append(relpath)
            continue
        index.add_segment(Segment(camera, relpath, start_ms, start_ms + probe.duration_ms,
                                  path.stat().st_size, probe.keyframes_ms, sha256=sha256_file(path)))
        report.indexed.append(relpath)
    if report.indexed or report.dropped_rows or report.removed_files:
        log.info("reconciled: %d files indexed, %d rows without file dropped, %d empty files removed",
                 len(report.indexed), len(report.dropped_rows), len(report.removed_files))
    return report
