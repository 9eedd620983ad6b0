"""Small real H.264 files for tests, made with ffmpeg (an independent encoder, not our code)."""

from __future__ import annotations

import subprocess
from pathlib import Path


def encode_video(path: Path, *, seconds: float, size: str = "160x120", fps: int = 15, gop: int = 15) -> Path:
    """An MP4 of ffmpeg's moving test pattern: no B-frames, a keyframe every `gop` frames."""
    subprocess.run(["ffmpeg", "-loglevel", "error", "-f", "lavfi", "-i", f"testsrc2=size={size}:rate={fps}",
                    "-t", str(seconds), "-c:v", "libx264", "-g", str(gop), "-bf", "0", str(path)], check=True)
    return path
