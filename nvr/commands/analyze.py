"""`nvr analyze FILE...`: live detection run over recorded video as fast as the CPU allows.

Packets are read from the file and fed to the same decoder tap, detector bank and event machine as a
live camera; only the clock differs (seconds from the file's start instead of wall time). One JSON
line per event, then a summary line.

Several files are analysed side by side, one thread each up to the number of cores: decoding releases
the GIL (measured on 2 cores: 1.9x faster for 1080p footage, 1.45x for 360p, where detection's share
of the time, which holds the GIL longer, is bigger).
"""

from __future__ import annotations

import json
import os
import sys
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

import av

from detect.events import EventUpdate
from detect.observation import Observation, rounded
from detect.settings import CameraDetectSettings
from ingest.clock import Stamp
from ingest.frame_tap import detection_tap
from ingest.source import SourceError, SourceOptions, open_source
from nvr.config import Config, DetectionConfig
from nvr.detection import DetectionPipeline

STALL_SECONDS = 3600.0  # a file does not stall


@dataclass
class FileSummary:
    file: str
    frames: int = 0
    video_seconds: float = 0.0
    events: int = 0
    raining_seconds: float = 0.0  # of video in which detection took rain or snow out of the pictures
    shaking_seconds: float = 0.0  # ... steadied a shaking picture
    counted_until: float = field(default=0.0, repr=False)  # video seconds counted in the two above

    def count_weather(self, seen: Observation | None) -> None:
        """Count the video since the last observation as what detection saw now (`seen`, at its time)."""
        if seen is None or seen.t <= self.counted_until:
            return
        span, self.counted_until = seen.t - self.counted_until, seen.t
        self.raining_seconds += span * seen.raining
        self.shaking_seconds += span * seen.shaking


def analyze_file(path: Path, settings: CameraDetectSettings, detection: DetectionConfig,
                 emit: Callable[[dict[str, Any]], None], stop: threading.Event) -> FileSummary:
    """Run detection over one file, calling `emit(event_json)` for each event as it ends; `stop` ends it
    early."""
    pipeline = DetectionPipeline(detection.bank_settings(), detection.policy())
    pipeline.watch("file", settings)
    tap = detection_tap(lambda y, chroma, t, _frame: pipeline.submit("file", y, chroma, t), settings)
    summary = FileSummary(str(path))
    source = open_source(path.resolve().as_uri(), SourceOptions(realtime=False, loop=False))
    try:
        tap.start(source.stream)
        time_base = float(source.time_base)
        first: float | None = None
        t = 0.0
        for packet in source.packets(stop, STALL_SECONDS):
            assert packet.dts is not None, "packets() times every packet"
            t = float(packet.dts) * time_base
            first = t if first is None else first
            t -= first
            _report(pipeline.tick(t), summary, emit)  # the previous frame; a long pause here is video loss
            summary.count_weather(pipeline.observed.get("file"))
            tap.packet(packet, Stamp(t, discontinuity=False))
            summary.frames += 1  # one video packet, one frame
        _report(pipeline.tick(t), summary, emit)
        summary.count_weather(pipeline.observed.get("file"))
        summary.video_seconds = round(t, 3)
        _report(pipeline.close(t), summary, emit)
    finally:
        source.close()
    return summary


def _report(updates: list[EventUpdate], summary: FileSummary, emit: Callable[[dict[str, Any]], None]) -> None:
    for update in updates:
        if update.kind != "ended":
            continue
        event = update.event
        summary.events += 1
        assert event.end is not None
        emit({"type": event.type, "start": round(event.start, 2), "end": round(event.end, 2),
              "score": round(event.score, 3), "boxes": rounded(event.boxes)})


def _reason(error: Exception) -> str:
    if isinstance(error, av.FFmpegError):  # its str() repeats the path and adds FFmpeg's error number
        return f"{error.strerror} (damaged, cut off, or not a video)"
    return str(error)


def run_analyze(config: Config, files: list[Path], camera: str | None, out: TextIO = sys.stdout) -> int:
    settings = CameraDetectSettings()
    if camera is not None:
        found = config.camera(camera)
        if found is None:
            print(f"no camera named {camera!r} in the configuration", file=sys.stderr)
            return 2
        settings = found.detect.settings()
    folders = [str(f) for f in files if f.is_dir()]
    missing = [str(f) for f in files if not f.is_file() and not f.is_dir()]
    if folders:
        print(f"a folder, not a video file: {', '.join(folders)} (name its files, e.g. {folders[0]}/*.mp4)",
              file=sys.stderr)
    if missing:
        print(f"no such file: {', '.join(missing)}", file=sys.stderr)
    if folders or missing:
        return 2
    started_cpu, started = time.process_time(), time.monotonic()
    output = threading.Lock()  # one line at a time from the files' threads
    stop = threading.Event()

    def analyze_one(path: Path) -> FileSummary | None:
        def emit(line: dict[str, Any]) -> None:
            if len(files) > 1:
                line = {"file": str(path), **line}
            with output:
                out.write(json.dumps(line) + "\n")
                out.flush()

        try:
            return analyze_file(path, settings, config.detection, emit, stop)
        except (av.FFmpegError, OSError, SourceError) as exc:
            with output:
                print(f"{path}: cannot read the video: {_reason(exc)}", file=sys.stderr)
            return None

    with ThreadPoolExecutor(min(len(files), os.cpu_count() or 1)) as pool:
        try:
            results = list(pool.map(analyze_one, files))
        except KeyboardInterrupt:
            # `map` has cancelled the files still waiting; those under way end at their next packet
            stop.set()
            print("interrupted", file=sys.stderr)
            return 130
    summaries = [result for result in results if result is not None]
    failed = len(results) - len(summaries)
    video = sum(s.video_seconds for s in summaries)
    cpu, wall = time.process_time() - started_cpu, time.monotonic() - started
    summary = {"files": len(summaries), "failed": failed, "frames": sum(s.frames for s in summaries),
               "video_seconds": round(video, 2), "events": sum(s.events for s in summaries),
               "raining_seconds": round(sum(s.raining_seconds for s in summaries), 2),
               "shaking_seconds": round(sum(s.shaking_seconds for s in summaries), 2),
               "cpu_seconds": round(cpu, 2), "wall_seconds": round(wall, 2),
               "realtime_factor": round(video / wall, 1) if wall > 0 else None}  # files side by side: above CPU's
    out.write(json.dumps({"summary": summary}) + "\n")
    return 1 if failed else 0
