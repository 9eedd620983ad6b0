"""`nvr analyze FILE...`: live detection run over recorded video as fast as the CPU allows.

Packets are read from the file and fed to the same decoder tap, detector bank and event machine as a
live camera; only the clock differs (seconds from the file's start instead of wall time). One JSON
line per event, then a summary line.
"""

from __future__ import annotations

import json
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

import av

from detect.events import EventUpdate
from detect.observation import rounded
from detect.settings import CameraDetectSettings
from ingest.clock import Stamp
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


def analyze_file(path: Path, settings: CameraDetectSettings, detection: DetectionConfig,
                 emit: Callable[[dict[str, Any]], None]) -> FileSummary:
    """Run detection over one file, calling `emit(event_json)` for each event as it ends."""
    pipeline = DetectionPipeline(detection.bank_settings(), detection.policy())
    tap = pipeline.add_camera("file", settings)
    summary = FileSummary(str(path))
    source = open_source(path.resolve().as_uri(), SourceOptions(realtime=False, loop=False))
    try:
        tap.start(source.stream)
        time_base = float(source.stream.time_base)  # type: ignore[arg-type]
        first: float | None = None
        t = 0.0
        for packet in source.packets(threading.Event(), STALL_SECONDS):
            t = float(packet.dts) * time_base
            first = t if first is None else first
            t -= first
            _report(pipeline.tick(t), summary, emit)  # the previous frame; a long pause here is video loss
            tap.packet(packet, Stamp(t, discontinuity=False))
            summary.frames += 1  # one video packet, one frame
        _report(pipeline.tick(t), summary, emit)
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
    summaries: list[FileSummary] = []
    failed = 0
    for path in files:
        def emit(line: dict[str, Any], path: Path = path) -> None:
            if len(files) > 1:
                line = {"file": str(path), **line}
            out.write(json.dumps(line) + "\n")
            out.flush()

        try:
            summaries.append(analyze_file(path, settings, config.detection, emit))
        except (av.FFmpegError, OSError, SourceError) as exc:
            print(f"{path}: cannot read the video: {_reason(exc)}", file=sys.stderr)
            failed += 1
    video = sum(s.video_seconds for s in summaries)
    cpu = time.process_time() - started_cpu
    summary = {"files": len(summaries), "failed": failed, "frames": sum(s.frames for s in summaries),
               "video_seconds": round(video, 2), "events": sum(s.events for s in summaries),
               "cpu_seconds": round(cpu, 2), "wall_seconds": round(time.monotonic() - started, 2),
               "realtime_factor": round(video / cpu, 1) if cpu > 0 else None}
    out.write(json.dumps({"summary": summary}) + "\n")
    return 1 if failed else 0
