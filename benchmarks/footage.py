"""Recorded footage for benchmarks: one real recorded minute copied into indexed 1-minute segments, and the
ffmpeg concat list that cuts the same range out of them."""

from __future__ import annotations

import hashlib
from pathlib import Path

from storage.index import RecordingIndex, Segment
from storage.layout import segment_relpath
from storage.probe import probe_segment

MINUTE_MS = 60_000


def build_segments(source: Path, segments_dir: Path, index: RecordingIndex, camera: str, minutes: int,
                   start_ms: int) -> list[Segment]:
    """`minutes` 1-minute segments of `camera` from `start_ms`, back to back, indexed with their SHA-256."""
    probe = probe_segment(source)
    data = source.read_bytes()
    digest = hashlib.sha256(data).hexdigest()
    segments = []
    for minute in range(minutes):
        begins = start_ms + minute * MINUTE_MS
        relpath = segment_relpath(camera, begins)
        (segments_dir / relpath).parent.mkdir(parents=True, exist_ok=True)
        (segments_dir / relpath).write_bytes(data)
        segment = Segment(camera, relpath, begins, begins + probe.duration_ms, len(data), probe.keyframes_ms,
                          sha256=digest)
        index.add_segment(segment)
        segments.append(segment)
    return segments


def concat_listing(segments_dir: Path, segments: list[Segment], start_ms: int, end_ms: int, path: Path) -> Path:
    """An ffconcat file for ffmpeg's concat demuxer: the segments of [start_ms, end_ms), cut at both ends."""
    chosen = [s for s in segments if s.start_ms < end_ms and s.end_ms > start_ms]
    lines = ["ffconcat version 1.0"]
    for segment in chosen:
        lines.append(f"file '{segments_dir / segment.path}'")
        if segment is chosen[0]:
            lines.append(f"inpoint {(start_ms - segment.start_ms) / 1000:.3f}")
        if segment is chosen[-1]:
            lines.append(f"outpoint {(end_ms - segment.start_ms) / 1000:.3f}")
    path.write_text("\n".join(lines) + "\n")
    return path
