"""Motion search over motion grids: query time for one camera-day and for 30 camera-days, and what the grids
cost in the catalog. Prints one JSON line.

Each camera-day is synthesized like a shopfront's: mostly quiet, with bursts of one or two movers (a
passer-by, a motorbike) crossing the lower part of the picture, a few an hour at night and up to 40 an
hour at the evening peak, and a spell of someone working in front of the door. The seconds are
written through the real storage code (`MotionGridStore.add`, in batches of ten minutes rather than
the writer's two seconds, the same merge), into SQLite and, when PostgreSQL 15 is installed, into a
throwaway PostgreSQL. Searched: the area of a doorway (lower left), over one camera-day, over 30 days
of one camera (one request), and over one day of 30 cameras (30 requests). Each time is the median of
REPEATS runs after a first one on a fresh connection (also reported).
"""

from __future__ import annotations

import itertools
import json
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from detect.motion_grid import COLUMNS, ROWS, MotionSecond, area_cells, cell_list
from nvr.motion_search import MotionSearchResult, search_motion
from storage.index import RecordingIndex
from storage.motion_grids import MotionGridStore

DAY_S = 86_400
FIRST_DAY_S = 1_795_046_400  # a midnight, UTC
BURSTS_PER_HOUR = (3, 2, 2, 2, 3, 8, 20, 30, 25, 15, 15, 18, 20, 15, 15, 18, 25, 35, 40, 35, 25, 15, 8, 5)
DOORWAY = ((0.05, 0.5), (0.35, 0.5), (0.35, 0.95), (0.05, 0.95))
CAMERAS = 30
MONTH_DAYS = 30
BATCH_S = 600
REPEATS = 5
POSTGRES_BIN = Path("/usr/lib/postgresql/15/bin/initdb")
TARGETS_S = {"one_camera_day": 0.5, "thirty_camera_days": 3.0}


def _crossing(rng: np.random.Generator, moving: np.ndarray, start: int) -> None:
    """One mover crossing the lower part of the picture from `start` (s into the day), 1-3 cells across."""
    seconds = int(np.clip(rng.exponential(8.0), 1, 90))
    (x0, x1), (y0, y1) = rng.uniform(-0.1, 1.1, 2) * COLUMNS, rng.uniform(0.4, 1.0, 2) * ROWS
    size = rng.uniform(1.0, 3.0)
    for step in range(min(seconds, DAY_S - start)):
        for fraction in (step / seconds, (step + 0.5) / seconds):  # where it is twice a second
            x, y = x0 + (x1 - x0) * fraction, y0 + (y1 - y0) * fraction
            rows = slice(max(0, int(y - size)), max(0, int(y + 1)))
            columns = slice(max(0, int(x - size / 2)), max(0, int(x + size / 2) + 1))
            moving[start + step, rows, columns] = True


def synthetic_day(rng: np.random.Generator, camera: str, day_start: int) -> list[MotionSecond]:
    """A shopfront's day of motion seconds (see the module's description)."""
    moving = np.zeros((DAY_S, ROWS, COLUMNS), bool)
    for hour, rate in enumerate(BURSTS_PER_HOUR):
        for start in rng.integers(hour * 3600, (hour + 1) * 3600, rng.poisson(rate)):
            for _ in range(1 + (rng.random() < 0.3)):
                _crossing(rng, moving, int(start))
    work = int(rng.integers(8 * 3600, 16 * 3600))  # twenty minutes of work at the door: small, near movements
    spell = moving[work:work + 1200, 6:9, 1:4]
    spell |= rng.random(spell.shape) < 0.15
    seconds = np.flatnonzero(moving.any(axis=(1, 2)))
    cells = np.packbits(moving[seconds].reshape(len(seconds), -1), axis=1)
    return [MotionSecond(camera, day_start + int(s), row.tobytes()) for s, row in zip(seconds, cells, strict=True)]


def write(store: MotionGridStore, seconds: list[MotionSecond]) -> None:
    """In batches of BATCH_S seconds (the writer's are of two seconds; the merge is the same)."""
    for _window, batch in itertools.groupby(seconds, key=lambda second: second.second // BATCH_S):
        store.add(list(batch))


def timed(search: Callable[[], list[MotionSearchResult]]) -> tuple[dict[str, float], list[MotionSearchResult]]:
    """The first run's time and the median of REPEATS more (seconds); and what was found."""
    times = []
    for _ in range(REPEATS + 1):
        started = time.perf_counter()
        found = search()
        times.append(time.perf_counter() - started)
    return {"first": round(times[0], 4), "median": round(statistics.median(times[1:]), 4)}, found


def table_bytes(index: RecordingIndex) -> int:
    """Bytes the motion_grids table and its key take in the database (pages, not rows)."""
    with index.engine.connect() as connection:
        if index.engine.dialect.name == "postgresql":
            found = connection.exec_driver_sql("SELECT pg_total_relation_size('motion_grids')").scalar()
        else:
            found = connection.exec_driver_sql("SELECT SUM(pgsize) FROM dbstat WHERE name IN "
                                               "('motion_grids', 'sqlite_autoindex_motion_grids_1')").scalar()
    return int(found or 0)


def run(url: str, days: list[list[MotionSecond]]) -> dict[str, object]:
    """Write the camera-days into the catalog at `url`, measure it, and search it."""
    index = RecordingIndex(url, "bench")
    store = MotionGridStore(index)
    started = time.perf_counter()
    for day in days:
        write(store, day)
    write_s = time.perf_counter() - started
    stored = table_bytes(index)
    with index.engine.connect() as connection:
        rows = int(connection.exec_driver_sql("SELECT COUNT(*) FROM motion_grids").scalar() or 0)
    index.close()

    index = RecordingIndex(url, "bench")  # a fresh connection: the first search pays for it
    store = MotionGridStore(index)
    area = area_cells(DOORWAY)
    day_ms = (FIRST_DAY_S * 1000, (FIRST_DAY_S + DAY_S) * 1000)
    month_ms = (FIRST_DAY_S * 1000, (FIRST_DAY_S + MONTH_DAYS * DAY_S) * 1000)

    def search(camera: str, window: tuple[int, int]) -> MotionSearchResult:
        return search_motion(store, camera, *window, area, limit=10_000)

    one_day, (day_found,) = timed(lambda: [search("cam00", day_ms)])
    month, (month_found,) = timed(lambda: [search("month", month_ms)])
    cameras, _ = timed(lambda: [search(f"cam{k:02d}", day_ms) for k in range(CAMERAS)])
    index.close()
    return {"write_s_per_camera_day": round(write_s / len(days), 3), "bytes_per_camera_day": round(stored / len(days)),
            "rows_per_camera_day": round(rows / len(days)), "one_camera_day_s": one_day,
            "thirty_days_of_one_camera_s": month, "one_day_of_thirty_cameras_s": cameras,
            "ranges_found": {"one_camera_day": len(day_found.ranges),
                             "thirty_days_of_one_camera": len(month_found.ranges)},
            "met": {"one_camera_day": one_day["median"] < TARGETS_S["one_camera_day"],
                    "thirty_camera_days": max(month["median"], cameras["median"]) < TARGETS_S["thirty_camera_days"]}}


def main() -> None:
    rng = np.random.default_rng(13)
    days = ([synthetic_day(rng, f"cam{k:02d}", FIRST_DAY_S) for k in range(CAMERAS)]
            + [synthetic_day(rng, "month", FIRST_DAY_S + d * DAY_S) for d in range(MONTH_DAYS)])
    moving = statistics.mean(len(day) for day in days)
    figures: dict[str, object] = {}
    with tempfile.TemporaryDirectory() as folder:
        figures["sqlite"] = run(f"sqlite:///{Path(folder) / 'index.db'}", days)
    if POSTGRES_BIN.exists():
        from tests.support.postgres import PostgresServer

        with PostgresServer("motion_bench") as server:
            figures["postgresql"] = run(server.url(), days)
    print(json.dumps({
        "benchmark": "motion_search",
        "input": f"{CAMERAS} cameras x 1 day and 1 camera x {MONTH_DAYS} days of synthetic shopfront motion (bursts "
                 f"of movers, a spell of work at the door), written through MotionGridStore; searched: a doorway "
                 f"drawn lower left ({len(cell_list(area_cells(DOORWAY)))} of {COLUMNS * ROWS} cells)",
        "moving_seconds_per_camera_day": round(moving),
        "moving_fraction": round(moving / DAY_S, 3),
        **figures,
        "targets_s": TARGETS_S,
    }))


if __name__ == "__main__":
    main()
