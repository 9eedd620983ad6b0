"""`nvr report health --days 7 [--out DIR]`: the camera health report for the post chief, from the catalog
(a CSV and a printable HTML page in Vietnamese); the station may be running or not."""

from __future__ import annotations

import argparse
import sys

from nvr.cameras import camera_from
from nvr.config import Config
from nvr.health import camera_health
from nvr.health_report import HealthReport, write_report
from nvr.station_identity import station_id
from storage.camera_store import CameraStore
from storage.clock import now_ms
from storage.events import EventStore
from storage.index import RecordingIndex

DAY_MS = 86_400_000
MAX_DAYS = 366


def run_report_command(config: Config, args: argparse.Namespace) -> int:
    if not 0 < args.days <= MAX_DAYS:
        print(f"nvr report health: --days must be more than 0 and at most {MAX_DAYS}", file=sys.stderr)
        return 2
    index = RecordingIndex(config.database_url, station_id(config))
    try:
        cameras = [camera for stored in CameraStore(index).all() if (camera := camera_from(stored)) and camera.enabled]
        end = now_ms()
        start = end - round(args.days * DAY_MS)
        found = camera_health(index, EventStore(index), cameras, start, end)
    finally:
        index.close()
    report = HealthReport(index.station, config.station.title, start, end, config.zone, found)
    try:
        paths = write_report(report, args.out)
    except OSError as exc:
        print(f"nvr report health: cannot write into {args.out}: {exc.strerror or exc}", file=sys.stderr)
        return 2
    for path in paths:
        print(path)
    return 0
