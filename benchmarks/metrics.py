"""What a Prometheus scrape and the camera health API cost at 64 cameras: the `/metrics` collector over a
station stand-in (64 cameras reporting, a catalog of a week of 1-minute segments per camera, event counts,
busy request and tick histograms), and `GET /api/health/cameras?days=7`'s computation over that catalog.
Prints one JSON line."""

from __future__ import annotations

import json
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from prometheus_client import Histogram, generate_latest

from api.request_latency import latency_histogram
from detect.events import EVENT_TYPES
from detect.observation import Observation
from ingest.status import StatusSnapshot
from nvr.config import CameraConfig
from nvr.event_counts import EventCounts
from nvr.health import camera_health
from nvr.live_detection import TICK_BUCKETS
from nvr.metrics import metrics_registry
from nvr.runtime.messages import CameraReport
from storage.clock_steps import ClockSteps
from storage.events import EventStore
from storage.index import RecordingIndex, Segment

CAMERAS = 64
DAYS = 7
SEGMENT_MS = 60_000
HOLE = range(600, 610)  # minutes of each day not recorded
SCRAPES = 50
HEALTH_RUNS = 5
ROUTES = ("/api/cameras", "/api/cameras/{name}", "/api/events", "/api/cameras/{name}/recordings", "/metrics",
          "/api/auth/me", "/api/storage", "/api/health/cameras", "/ui", "unmatched")


class StandIn:
    """The parts of nvr.station.Station the collector reads."""

    def __init__(self, index: RecordingIndex, segments_dir: Path, now: float) -> None:
        self.index = index
        self.segments_dir = segments_dir
        self.event_counts = EventCounts()
        self.tick_seconds = Histogram("nvr_detection_tick_seconds", "ticks", buckets=TICK_BUCKETS, registry=None)
        self.cameras = [CameraConfig(name=f"cam{k:03d}", record_url=f"rtsp://10.0.0.{k}/x") for k in range(CAMERAS)]
        status = StatusSnapshot("online", now - 3600, None, 15.0, 4000.0, 1920, 1080, "h264", 0.1, False, "tcp", 2,
                                now - 0.05)
        self.reports = {c.name: CameraReport(c.name, status, None, None, None, (), 60, 30_000_000)
                        for c in self.cameras}
        self.detection_frames = {camera.name: 54_000 for camera in self.cameras}
        self.detection_seen = {camera.name: Observation(camera.name, now, raining=k % 4 == 0)
                               for k, camera in enumerate(self.cameras)}
        for camera in self.cameras:
            for type_ in EVENT_TYPES:
                self.event_counts.add(camera.name, type_)
        for k in range(10_000):
            self.tick_seconds.observe(0.001 + (k % 50) / 10_000)
        self.clock_steps = ClockSteps()
        self.storage_shortage: str | None = None

    def camera_list(self) -> list[CameraConfig]:
        return self.cameras

    def is_running(self, camera: str) -> bool:
        return True

    def report(self, camera: str) -> CameraReport | None:
        return self.reports.get(camera)


def fill(index: RecordingIndex, end_ms: int) -> int:
    """A week of back-to-back 1-minute segments per camera, with a ten-minute hole (HOLE) every day."""
    rows = 0
    for k in range(CAMERAS):
        name = f"cam{k:03d}"
        starts = [end_ms - (DAYS * 1440 - n) * SEGMENT_MS for n in range(DAYS * 1440) if n % 1440 not in HOLE]
        index.add_segments([Segment(name, f"{name}/{start}.mp4", start, start + SEGMENT_MS, 4_000_000)
                            for start in starts])
        rows += len(starts)
    return rows


def main() -> None:
    with tempfile.TemporaryDirectory() as folder:
        index = RecordingIndex(f"sqlite:///{Path(folder) / 'index.db'}", "bench")
        now = time.time()
        end_ms = round(now * 1000)
        began = time.perf_counter()
        rows = fill(index, end_ms)
        fill_s = time.perf_counter() - began
        station = StandIn(index, Path(folder), now)
        latency = latency_histogram()
        for k in range(20_000):
            latency.labels(ROUTES[k % len(ROUTES)], "GET").observe(0.002 + (k % 100) / 1000)
        registry = metrics_registry(station, latency)
        text = generate_latest(registry)
        scrapes = [timed(lambda: generate_latest(registry)) for _ in range(SCRAPES)]
        health = [timed(lambda: camera_health(index, EventStore(index), station.cameras,
                                              end_ms - DAYS * 86_400_000, end_ms)) for _ in range(HEALTH_RUNS)]
        index.close()
    print(json.dumps({
        "benchmark": "metrics", "cameras": CAMERAS, "segments_in_catalog": rows, "fill_s": round(fill_s, 1),
        "load_average": round(os.getloadavg()[0], 1),  # other work on the machine inflates the wall-clock times
        "scrape": {"bytes": len(text), "series": sum(1 for line in text.splitlines() if not line.startswith(b"#")),
                   **summary(scrapes)},
        "health_7_days": summary(health),
    }))


def timed(work: Callable[[], object]) -> tuple[float, float]:
    """(wall-clock, CPU) seconds of one call."""
    wall, cpu = time.perf_counter(), time.process_time()
    work()
    return time.perf_counter() - wall, time.process_time() - cpu


def summary(runs: list[tuple[float, float]]) -> dict[str, float]:
    return {"median_ms": round(statistics.median(wall for wall, _cpu in runs) * 1000, 2),
            "median_cpu_ms": round(statistics.median(cpu for _wall, cpu in runs) * 1000, 2)}


if __name__ == "__main__":
    main()
