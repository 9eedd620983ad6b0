"""A restart after a power cut: how long the catalog is checked against the files before, and beside, recording.

A post's folder and catalog are filled as the recorders leave them (one-minute segments of every camera, each with
its file, every file with its row), then timed: what `nvr run` checks before any recorder starts (the cameras no
recorder reads: here one switched off), what one recorder checks beside its recording (its share of the cameras),
and the whole check as it was made before the recorders until 2026-12-01. The baseline, in the same run: listing
every file of the folder and reading every row's path, the least a whole check must do. Prints one JSON line.

    python benchmarks/reconcile.py [--cameras 20] [--days 7] [--recorders 2]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import insert

from storage.index import RecordingIndex
from storage.layout import segment_relpath
from storage.models import SegmentRow
from storage.reconcile import reconcile

STATION = "bench"
SEGMENT_MS = 60_000
DAY_MS = 86_400_000
CHUNK = 20_000


def fill(index: RecordingIndex, segments_dir: Path, names: list[str], days: int, end_ms: int) -> int:
    """Rows and (empty) files of every camera, interleaved in time as recorded; returns how many."""
    ids = {name: index.camera_id(name) for name in names}
    rows: list[dict[str, object]] = []
    count = 0
    for at in range(end_ms - days * DAY_MS, end_ms, SEGMENT_MS):
        for name in names:
            relpath = segment_relpath(name, at)
            path = segments_dir / relpath
            path.parent.mkdir(parents=True, exist_ok=True)
            path.touch()
            rows.append({"station": STATION, "camera_id": ids[name], "path": relpath, "start_ms": at,
                         "end_ms": at + SEGMENT_MS, "bytes": 30_000_000, "keyframes_ms": "[0]", "sha256": "9f" * 32})
        if len(rows) >= CHUNK:
            count += _insert(index, rows)
    return count + _insert(index, rows)


def _insert(index: RecordingIndex, rows: list[dict[str, object]]) -> int:
    if rows:
        with index.engine.begin() as connection:
            connection.execute(insert(SegmentRow), rows)
    count = len(rows)
    rows.clear()
    return count


def timed(work: Callable[[], object]) -> float:
    started = time.perf_counter()
    work()
    return round(time.perf_counter() - started, 3)


def baseline(index: RecordingIndex, segments_dir: Path) -> None:
    """Every file listed and every row's path read: what no whole check can do without."""
    sum(len(files) for _folder, _dirs, files in os.walk(segments_dir))
    with index.engine.connect() as connection:
        sum(1 for _ in connection.exec_driver_sql("SELECT path FROM segments"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cameras", type=int, default=20)
    parser.add_argument("--days", type=int, default=7)
    parser.add_argument("--recorders", type=int, default=2)
    options = parser.parse_args()
    names = [f"cam{k:03d}" for k in range(options.cameras)]
    recorded = frozenset(names[1:])  # the first is switched off: the start checks it
    share = set(names[1::options.recorders])  # one recorder's cameras
    with tempfile.TemporaryDirectory() as folder:
        segments_dir = Path(folder) / "segments"
        index = RecordingIndex(f"sqlite:///{Path(folder) / 'nvr.db'}", STATION)
        end_ms = (round(time.time() * 1000) // SEGMENT_MS) * SEGMENT_MS
        segments = fill(index, segments_dir, names, options.days, end_ms)
        reconcile(index, segments_dir, cameras={names[0]})  # the statements prepared, the files' folders read once
        figures = {
            "baseline_s": timed(lambda: baseline(index, segments_dir)),
            "before_recording_s": timed(lambda: reconcile(index, segments_dir, leaving=recorded)),
            "one_recorder_beside_recording_s": timed(lambda: reconcile(index, segments_dir, cameras=share)),
            "whole_check_s": timed(lambda: reconcile(index, segments_dir)),
        }
        index.close()
    print(json.dumps({"benchmark": "reconcile", "cameras": options.cameras, "days": options.days,
                      "segments": segments, **figures,
                      "whole_check_per_segment_us": round(figures["whole_check_s"] / segments * 1e6, 1),
                      "whole_check_vs_baseline": round(figures["whole_check_s"] / figures["baseline_s"], 2),
                      "load_average": round(os.getloadavg()[0], 1)}))


if __name__ == "__main__":
    main()
