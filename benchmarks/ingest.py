"""Ingest + record cost: N cameras replayed as fast as possible through the real worker and recorder,
against `ffmpeg -c copy -f segment` on the same input in the same run. Prints one JSON line."""

from __future__ import annotations

import argparse
import json
import logging
import resource
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.media import camera_minute_1080p
from ingest.source import SourceOptions
from ingest.worker import Backoff, StreamWorker
from storage.index import RecordingIndex
from storage.recorder import SegmentRecorder


def rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def run_ours(source: Path, cameras: int, minutes_per_camera: int, work: Path) -> tuple[float, float, float]:
    """Returns (CPU s, wall s, peak RSS MB above the idle process)."""
    index = RecordingIndex(f"sqlite:///{work / 'index.db'}", "bench")
    idle = rss_mb()
    workers: list[StreamWorker] = []
    done = threading.Semaphore(0)
    for n in range(cameras):
        recorder = SegmentRecorder(f"cam{n}", work / "segments", 60, index.add_segment)
        worker = StreamWorker(f"cam{n}", "record", f"file://{source}", SourceOptions(realtime=False, loop=False),
                              stall_seconds=30, backoff=Backoff(60, 60), sinks=[recorder],
                              on_state=lambda state, _reason: done.release() if state == "offline" else None)
        workers.append(worker)
    peak = idle
    cpu0, wall0 = time.process_time(), time.perf_counter()
    for worker in workers:
        worker.start()
    finished = 0
    while finished < cameras:  # each file ends once: "offline" marks the end of that camera's run
        if done.acquire(timeout=0.05):
            finished += 1
        peak = max(peak, rss_mb())
    cpu, wall = time.process_time() - cpu0, time.perf_counter() - wall0
    for worker in workers:
        worker.stop()
    index.close()
    return cpu, wall, peak - idle


def run_ffmpeg(source: Path, cameras: int, work: Path) -> float:
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    processes = []
    for n in range(cameras):
        out = work / f"ff{n}"
        out.mkdir()
        processes.append(subprocess.Popen(
            ["ffmpeg", "-loglevel", "error", "-i", str(source), "-c", "copy", "-f", "segment",
             "-segment_time", "60", "-reset_timestamps", "1", str(out / "%03d.mp4")]))
    for process in processes:
        process.wait()
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--cameras", type=int, default=8)
    args = parser.parse_args()
    logging.disable(logging.WARNING)  # each camera's file ending is logged as "offline"
    source = camera_minute_1080p()
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        cpu, wall, rss = run_ours(source, args.cameras, 1, work)
        ffmpeg_cpu = run_ffmpeg(source, args.cameras, work)
    minutes = args.cameras * 1.0
    print(json.dumps({
        "benchmark": "ingest",
        "input": "1920x1080@15 H.264 ~4 Mbit/s, 60 s per camera",
        "cameras": args.cameras,
        "cpu_s_per_camera_minute": round(cpu / minutes, 4),
        "ffmpeg_segment_cpu_s_per_camera_minute": round(ffmpeg_cpu / minutes, 4),
        "ratio_to_ffmpeg": round(cpu / ffmpeg_cpu, 2),
        "realtime_factor": round(minutes * 60 / wall, 1),
        "peak_rss_mb_above_idle": round(rss, 1),
        "rss_mb_per_camera": round(rss / args.cameras, 2),
        "targets": {"ratio_to_ffmpeg": 1.5, "rss_mb_per_camera": 30},
    }))


if __name__ == "__main__":
    main()
