"""A post's catalog at full size: what the station's reads of it cost when it holds a month of 200 cameras.

The catalog is filled as a post fills it (one-minute segments of every camera, interleaved in time as the
recorders write them, each with its keyframe list and hash; about 300 events a camera-day, a few of them
tampering, one lasting two days and one still open; an open case locking an hour of four cameras), then each read
the station makes of it is timed on a cold cache (the catalog's file dropped from the page cache, a new
connection) and again warm. The baseline, in the same run: a cold scan of the whole segments table, as a query
with no usable index would make. Prints one JSON line.

    python benchmarks/catalog.py [--cameras 200] [--days 30] [--url sqlite:///...]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import insert, text

from nvr.config import CameraConfig
from nvr.health import TAMPER_TYPES, camera_health
from storage.cases import CaseStore, NewItem
from storage.clock_steps import ClockSteps
from storage.events import EventStore
from storage.index import RecordingIndex
from storage.leases import SegmentLeases
from storage.models import EventRow, SegmentRow
from storage.reserve import SpaceReserve
from storage.retention import Retention, RetentionPolicy
from storage.usage import storage_usage

STATION = "bench"
SEGMENT_MS = 60_000
DAY_MS = 86_400_000
KEYFRAME_MS = 2_000
EVENTS_PER_CAMERA_DAY = 300
TAMPERS_EVERY_DAYS = 2  # one tampering event a camera every this many days
CHUNK = 20_000
KEYFRAMES = json.dumps(list(range(0, SEGMENT_MS, KEYFRAME_MS)))
HASH = "9f" * 32


def fill(index: RecordingIndex, cameras: int, days: int, end_ms: int) -> tuple[int, int]:
    """Segments and events as a post writes them; returns their counts."""
    ids = [index.camera_id(f"cam{k:03d}") for k in range(cameras)]
    start = end_ms - days * DAY_MS
    segments = events = 0
    for chunk in _chunks(_segment_rows(ids, start, end_ms)):
        with index.engine.begin() as connection:
            connection.execute(insert(SegmentRow), chunk)
        segments += len(chunk)
    for chunk in _chunks(_event_rows(ids, start, end_ms)):
        with index.engine.begin() as connection:
            connection.execute(insert(EventRow), chunk)
        events += len(chunk)
    return segments, events


def _segment_rows(ids: list[int], start: int, end: int) -> Iterator[dict[str, object]]:
    for at in range(start, end, SEGMENT_MS):
        for camera_id in ids:
            yield {"station": STATION, "camera_id": camera_id, "path": f"{camera_id}/{at}.mp4", "start_ms": at,
                   "end_ms": at + SEGMENT_MS, "bytes": 30_000_000, "keyframes_ms": KEYFRAMES, "sha256": HASH}


def _event_rows(ids: list[int], start: int, end: int) -> Iterator[dict[str, object]]:
    draw = random.Random(15)
    gap = DAY_MS // EVENTS_PER_CAMERA_DAY
    for at in range(start, end, gap):
        for n, camera_id in enumerate(ids):
            begins = at + draw.randrange(gap // 2)
            tamper = draw.random() < 1 / (EVENTS_PER_CAMERA_DAY * TAMPERS_EVERY_DAYS)
            yield _event(camera_id, TAMPER_TYPES[n % 3] if tamper else "motion", begins,
                         begins + draw.randrange(5_000, 40_000))
    yield _event(ids[0], "tamper_covered", end - 2 * DAY_MS - 3_600_000, end - 2 * DAY_MS + 3_600_000)
    yield _event(ids[1], "tamper_moved", end - 10 * DAY_MS, end - 8 * DAY_MS)  # two days turned away
    yield _event(ids[2], "motion", end - 30_000, None)  # still going on


def _event(camera_id: int, type_: str, start: int, end: int | None) -> dict[str, object]:
    return {"station": STATION, "camera_id": camera_id, "type": type_, "start_ms": start, "end_ms": end,
            "score": 0.8, "boxes": "[[0.1, 0.2, 0.05, 0.1]]", "snapshot": None, "updated_ms": end or start}


def _chunks(rows: Iterator[dict[str, object]]) -> Iterator[list[dict[str, object]]]:
    chunk: list[dict[str, object]] = []
    for row in rows:
        chunk.append(row)
        if len(chunk) == CHUNK:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def settle(index: RecordingIndex) -> None:
    """What a catalog's database does by itself over the hours after such writes: PostgreSQL's autovacuum marks the
    pages all-visible (without that, an index-only scan visits the rows anyway) and gathers statistics."""
    if index.engine.dialect.name == "postgresql":
        with index.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.execute(text("VACUUM ANALYZE segments, events"))


def drop_cache(url: str) -> None:
    """Drop a SQLite catalog's file from the page cache (PostgreSQL keeps its own: nothing to do here)."""
    if not url.startswith("sqlite:///"):
        return
    for path in (url.removeprefix("sqlite:///"), url.removeprefix("sqlite:///") + "-wal"):
        if os.path.exists(path):
            descriptor = os.open(path, os.O_RDONLY)
            try:
                os.fsync(descriptor)
                os.posix_fadvise(descriptor, 0, 0, os.POSIX_FADV_DONTNEED)
            finally:
                os.close(descriptor)


def timed(url: str, work: Callable[[RecordingIndex], object]) -> dict[str, float]:
    """Milliseconds of `work` on a cold cache (a new connection, the file out of the page cache), then warm."""
    index = RecordingIndex(url, STATION)
    try:
        with index.engine.connect() as connection:
            if url.startswith("sqlite"):
                connection.execute(text("PRAGMA wal_checkpoint(TRUNCATE)"))
        drop_cache(url)
        found = {}
        for name in ("cold_ms", "warm_ms"):
            began = time.perf_counter()
            work(index)
            found[name] = round((time.perf_counter() - began) * 1000, 1)
        return found
    finally:
        index.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cameras", type=int, default=200)
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--url", help="the catalog's database (default: a new SQLite file in a temporary folder)")
    options = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        url = options.url or f"sqlite:///{Path(folder) / 'index.db'}"
        end_ms = (round(time.time() * 1000) // SEGMENT_MS) * SEGMENT_MS
        index = RecordingIndex(url, STATION)
        began = time.perf_counter()
        segments, events = fill(index, options.cameras, options.days, end_ms)
        fill_s = time.perf_counter() - began
        lock_case(index, end_ms)
        settle(index)
        index.close()
        print(json.dumps({
            "benchmark": "catalog", "cameras": options.cameras, "days": options.days, "segments": segments,
            "events": events, "fill_s": round(fill_s, 1), "database": url.split(":")[0],
            "catalog_mb": round(Path(url.removeprefix("sqlite:///")).stat().st_size / 1e6) if not options.url else None,
            "load_average": round(os.getloadavg()[0], 1),
            **reads(url, options.cameras, end_ms, Path(folder)),
            "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
        }))


def lock_case(index: RecordingIndex, end_ms: int) -> None:
    """An open case: an hour of four cameras, five days ago."""
    start = end_ms - 5 * DAY_MS
    CaseStore(index).create("bench", "", [NewItem(f"cam{k:03d}", start, start + 3_600_000) for k in range(4)], "bench")


def reads(url: str, cameras: int, end_ms: int, folder: Path) -> dict[str, dict[str, float]]:
    """Each read the station makes of its catalog, cold and warm, with the whole-table scan as the baseline."""
    names = [f"cam{k:03d}" for k in range(cameras)]
    configs = [CameraConfig(name=name, record_url="rtsp://10.0.0.1/x") for name in names]
    day = (end_ms - DAY_MS, end_ms)
    policy = RetentionPolicy(max_age_ms=30 * DAY_MS, max_bytes=None, min_free_bytes=0, event_age_ms=90 * DAY_MS)

    def retention_pass(index: RecordingIndex) -> object:
        retention = Retention(index, folder / "segments", policy, SegmentLeases(), free_bytes=lambda: 10**15,
                              events=EventStore(index))
        return retention.enforce(end_ms)

    found = {
        "baseline_table_scan": timed(url, lambda index: _scalar(index, "SELECT count(*), sum(length(keyframes_ms)) "
                                                                      "FROM segments")),
        "health_7_days": timed(url, lambda index: camera_health(index, EventStore(index), configs,
                                                                end_ms - 7 * DAY_MS, end_ms)),
        "recordings_camera_day": timed(url, lambda index: index.segments(names[-1], *day)),
        "events_day_all": timed(url, lambda index: EventStore(index).query(
            cameras=None, types=None, start_ms=day[0], end_ms=day[1], limit=500)),
        "events_day_tampering": timed(url, lambda index: EventStore(index).query(
            cameras=None, types=TAMPER_TYPES, start_ms=day[0], end_ms=day[1], limit=500)),
        "events_day_half_the_cameras": timed(url, lambda index: EventStore(index).query(
            cameras=names[::2], types=None, start_ms=day[0], end_ms=day[1], limit=500)),
        "events_week_ago_one_camera": timed(url, lambda index: EventStore(index).query(
            cameras=names[:1], types=None, start_ms=day[0] - 7 * DAY_MS, end_ms=day[1] - 7 * DAY_MS, limit=500)),
        "storage_figures": timed(url, lambda index: storage_usage(index, folder, SpaceReserve(folder / "reserve", 0),
                                                                  names, ClockSteps())),
        "retention_full_pass": timed(url, retention_pass),
    }
    scan = found["baseline_table_scan"]["cold_ms"]
    for figures in found.values():
        figures["cold_to_table_scan"] = round(figures["cold_ms"] / scan, 4)
    return found


def _scalar(index: RecordingIndex, query: str) -> object:
    with index.engine.connect() as connection:
        return connection.execute(text(query)).all()


if __name__ == "__main__":
    main()
