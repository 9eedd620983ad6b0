"""Clip extraction: a 10-minute clip out of an hour of 1-minute 1080p segments, streamed as the API does,
against ffmpeg's concat demuxer stream-copying the same range in the same run. Prints one JSON line."""

from __future__ import annotations

import json
import logging
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from api.clip_stream import stream_clip
from benchmarks.footage import MINUTE_MS, build_segments, concat_listing
from benchmarks.media import camera_minute_1080p
from storage.clips import plan_clip
from storage.index import RecordingIndex, Segment
from storage.leases import SegmentLeases

HOUR_START_MS = 1_795_000_000_000


def time_ours(segments_dir: Path, index: RecordingIndex, start_ms: int, end_ms: int) -> tuple[float, float, int]:
    began = time.perf_counter()
    plan = plan_clip(index.segments("cam", start_ms, end_ms), start_ms, end_ms)
    assert plan is not None
    first_byte = None
    size = 0
    for chunk in stream_clip(plan, segments_dir, SegmentLeases()):
        if first_byte is None:
            first_byte = time.perf_counter() - began
        size += len(chunk)
    return first_byte or 0.0, time.perf_counter() - began, size


def time_ffmpeg(segments_dir: Path, segments: list[Segment], start_ms: int, end_ms: int, work: Path) -> float:
    listing = concat_listing(segments_dir, segments, start_ms, end_ms, work / "list.ffconcat")
    began = time.perf_counter()
    subprocess.run(["ffmpeg", "-loglevel", "error", "-f", "concat", "-safe", "0", "-i", str(listing), "-c", "copy",
                    "-movflags", "frag_keyframe+empty_moov+default_base_moof", "-f", "mp4", "pipe:1"],
                   check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - began


def main() -> None:
    logging.disable(logging.WARNING)
    source = camera_minute_1080p()
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        index = RecordingIndex(f"sqlite:///{work / 'index.db'}", "bench")
        segments = build_segments(source, work / "segments", index, "cam", 60, HOUR_START_MS)
        start_ms = HOUR_START_MS + 20 * MINUTE_MS + 30_500
        end_ms = start_ms + 10 * MINUTE_MS
        time_ours(work / "segments", index, start_ms, end_ms)  # warm the page cache for both contenders
        ttfb, total, size = time_ours(work / "segments", index, start_ms, end_ms)
        ffmpeg_total = time_ffmpeg(work / "segments", segments, start_ms, end_ms, work)
        index.close()
    print(json.dumps({
        "benchmark": "clips",
        "input": "60 x 1-minute 1920x1080@15 H.264 ~4 Mbit/s segments; 10-minute clip",
        "clip_mb": round(size / 1e6, 1),
        "time_to_first_byte_s": round(ttfb, 3),
        "time_to_last_byte_s": round(total, 3),
        "ffmpeg_concat_s": round(ffmpeg_total, 3),
        "ratio_to_ffmpeg": round(total / ffmpeg_total, 2),
        "targets": {"time_to_first_byte_s": 0.2, "time_to_last_byte_s": 2.0, "ratio_to_ffmpeg": 1.0},
    }))


if __name__ == "__main__":
    main()
