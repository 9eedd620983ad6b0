"""Benchmark input: one minute of camera-like 1080p@15 H.264 at about 4 Mbit/s, made once with ffmpeg."""

from __future__ import annotations

import subprocess
from pathlib import Path

CACHE = Path(__file__).resolve().parent / ".cache"


def camera_minute_1080p() -> Path:
    """A 60 s 1920x1080@15 file, GOP 2 s, no B-frames, with sensor-like noise so it really costs 4 Mbit/s."""
    path = CACHE / "minute-1080p15-4mbit.mp4"
    if path.exists():
        return path
    CACHE.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(".partial.mp4")
    subprocess.run(
        ["ffmpeg", "-loglevel", "error", "-y", "-f", "lavfi", "-i", "testsrc2=size=1920x1080:rate=15",
         "-t", "60", "-vf", "noise=alls=12:allf=t", "-c:v", "libx264", "-preset", "ultrafast",
         "-b:v", "4M", "-maxrate", "4M", "-bufsize", "8M", "-g", "30", "-bf", "0", "-pix_fmt", "yuv420p",
         str(partial)],
        check=True,
    )
    partial.rename(path)
    return path
