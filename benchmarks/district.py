"""The district's catalog under a district's load: 1,150 cameras in 25 stations, 1-minute segments and
events for 30 days in one PostgreSQL (about 50 million segment rows), read as the district server reads it:
the camera list (`GET /api/cameras`), the station list (`GET /api/stations`: cameras plus two footage lookups
per station, in one query), a camera-day's recordings and a day's event feed across the district; and the rate at which
the catalog takes new segment rows from every station at once, through the posts' own write
(`RecordingIndex.add_new_segments`, one batch per station as a recorder's writer sends it).

The rows are made inside PostgreSQL (`generate_series`), not one by one from Python: filling is not what is
measured. `--cameras 50 --days 1` is a quick check that it runs. Prints one JSON line."""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import text

from nvr.district.catalog import DistrictCatalog, EventQuery
from storage.index import RecordingIndex, Segment
from storage.timeline import gaps, recorded_ranges

DAY_MS = 86_400_000
MINUTE_MS = 60_000
EVENTS_PER_CAMERA_DAY = 24
TARGET_P95_MS = 100.0
WRITE_SECONDS = 10.0
WRITE_BATCH = 20  # rows per station per batch: a post's writer sends what gathered meanwhile


def fill(url: str, stations: list[str], cameras: int, days: int, now_ms: int) -> dict[str, float]:
    """Migrate the catalog, then cameras, segments and events made inside PostgreSQL; the seconds each took."""
    for station in stations:
        RecordingIndex(url, station).close()  # migrates once (the first), then only checks the revision
    catalog = DistrictCatalog(url)
    first_ms = now_ms - days * DAY_MS
    spent: dict[str, float] = {}
    with catalog.engine.begin() as connection:
        for k in range(cameras):
            connection.execute(text("INSERT INTO cameras (station, name, settings, managed_by) "
                                    "VALUES (:station, :name, :settings, 'config')"),
                               {"station": stations[k % len(stations)], "name": f"cam{k:04d}",
                                "settings": json.dumps({"title": f"Camera {k}"})})
    began = time.perf_counter()
    for day in range(days):  # a statement a day: a month in one would hold 50 million rows in one transaction
        with catalog.engine.begin() as connection:
            connection.execute(text(
                "INSERT INTO segments (station, camera_id, path, start_ms, end_ms, bytes, keyframes_ms) "
                "SELECT c.station, c.id, c.name || '/' || m, :first + m * 60000, :first + m * 60000 + 60000, "
                "30000000, '[0, 2000, 4000]' FROM cameras c "
                "CROSS JOIN generate_series(CAST(:day AS bigint) * 1440, CAST(:day AS bigint) * 1440 + 1439) AS m"),
                {"first": first_ms, "day": day})
    spent["segments_s"] = time.perf_counter() - began
    began = time.perf_counter()
    with catalog.engine.begin() as connection:
        connection.execute(text(
            "INSERT INTO events (station, camera_id, type, start_ms, end_ms, score, boxes, updated_ms) "
            "SELECT c.station, c.id, 'motion', :first + e * :spacing + (c.id * 7919) % :spacing, "
            ":first + e * :spacing + (c.id * 7919) % :spacing + 20000, 0.8, '[]', :first + e * :spacing "
            "FROM cameras c CROSS JOIN generate_series(CAST(0 AS bigint), :events - 1) AS e"),
            {"first": first_ms, "spacing": DAY_MS // EVENTS_PER_CAMERA_DAY, "events": days * EVENTS_PER_CAMERA_DAY})
    spent["events_s"] = time.perf_counter() - began
    with catalog.engine.begin() as connection:
        connection.execute(text("ANALYZE"))  # as autovacuum would after a while: plans for the filled tables
    catalog.close()
    return spent


def timed(action: Callable[[], object], runs: int) -> dict[str, float]:
    times = []
    for _ in range(runs):
        began = time.perf_counter()
        action()
        times.append((time.perf_counter() - began) * 1000)
    times.sort()
    return {"median_ms": round(statistics.median(times), 2),
            "p95_ms": round(times[min(len(times) - 1, int(len(times) * 0.95))], 2), "runs": runs}


def reads(url: str, stations: list[str], cameras: int, days: int, now_ms: int, runs: int) -> dict[str, Any]:
    catalog = DistrictCatalog(url)
    rng = random.Random(16)

    def camera_day() -> None:
        k = rng.randrange(cameras)
        station, name = stations[k % len(stations)], f"cam{k:04d}"
        start = now_ms - rng.randrange(1, days + 1) * DAY_MS
        ranges = recorded_ranges(catalog.spans(station, name, start, start + DAY_MS), start, start + DAY_MS)
        gaps(ranges, catalog.outages(station, name, start, start + DAY_MS), start, start + DAY_MS)

    def day_feed() -> None:
        start = now_ms - rng.randrange(1, days + 1) * DAY_MS
        catalog.events(EventQuery(stations, None, None, start, start + DAY_MS, 200, None))

    def station_list() -> None:
        catalog.cameras(stations)
        catalog.footage(stations)

    figures = {"camera_list": timed(lambda: catalog.cameras(stations), runs),
               "station_list": timed(station_list, runs),
               "camera_day_recordings": timed(camera_day, runs),
               "day_event_feed": timed(day_feed, runs)}
    catalog.close()
    return figures


def write_rate(url: str, stations: list[str], now_ms: int) -> dict[str, float]:
    """Every station's writer adding batches of new 1-minute segments at once, for WRITE_SECONDS."""
    written = [0] * len(stations)
    stop = time.monotonic() + WRITE_SECONDS

    def station_writer(slot: int) -> None:
        index = RecordingIndex(url, stations[slot], migrate=False)
        names = [f"cam{k:04d}" for k in range(slot, slot + len(stations) * 4, len(stations))]
        at = now_ms
        while time.monotonic() < stop:
            batch = [Segment(names[n % len(names)], f"new/{names[n % len(names)]}/{at + n}", at + n, at + n + MINUTE_MS,
                             30_000_000, (0, 2000, 4000), sha256="0" * 64) for n in range(WRITE_BATCH)]
            written[slot] += index.add_new_segments(batch)
            at += WRITE_BATCH
        index.close()

    threads = [threading.Thread(target=station_writer, args=(slot,)) for slot in range(len(stations))]
    began = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    seconds = time.perf_counter() - began
    return {"rows_per_s": round(sum(written) / seconds), "writers": len(stations), "batch": WRITE_BATCH}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cameras", type=int, default=1150)
    parser.add_argument("--stations", type=int, default=25)
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--runs", type=int, default=100)
    parser.add_argument("--url", help="an empty PostgreSQL database to fill (default: a throwaway cluster)")
    args = parser.parse_args()
    stations = [f"phuong-{k:02d}" for k in range(args.stations)]
    now_ms = int(time.time() * 1000)

    def run(url: str) -> dict[str, Any]:
        filled = fill(url, stations, args.cameras, args.days, now_ms)
        return {"fill": {name: round(value, 1) for name, value in filled.items()},
                **reads(url, stations, args.cameras, args.days, now_ms, args.runs),
                "write": write_rate(url, stations, now_ms)}

    if args.url:
        figures = run(args.url)
    else:
        from tests.support.postgres import PostgresServer

        with PostgresServer("district_bench") as server:
            figures = run(server.url())
    minutes = args.days * 1440
    p95s = [figures[name]["p95_ms"]
            for name in ("camera_list", "station_list", "camera_day_recordings", "day_event_feed")]
    print(json.dumps({
        "benchmark": "district",
        "input": f"{args.cameras} cameras in {args.stations} stations, 1-minute segments and "
                 f"{EVENTS_PER_CAMERA_DAY} events per camera-day for {args.days} days in PostgreSQL",
        "segment_rows": args.cameras * minutes, "event_rows": args.cameras * args.days * EVENTS_PER_CAMERA_DAY,
        **figures,
        "needed_write_rows_per_s": round(args.cameras / 60, 1),  # one 1-minute segment per camera per minute
        "target_p95_ms": TARGET_P95_MS, "met": max(p95s) < TARGET_P95_MS,
    }, ensure_ascii=False))


if __name__ == "__main__":
    main()
