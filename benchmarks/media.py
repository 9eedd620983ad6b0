"""Benchmark input: camera-like H.264 made once with ffmpeg and cached under benchmarks/.cache: one minute of
a 1080p@15 main stream at about 4 Mbit/s and of a 640x360@15 sub stream at 512 kbit/s, and longer copies
of them for benchmarks whose cameras must stream for more than a minute."""

from __future__ import annotations

import subprocess
from pathlib import Path

CACHE = Path(__file__).resolve().parent / ".cache"


def _encode(path: Path, size: str, bit_rate: str, encoder: tuple[str, ...] = ("-preset", "ultrafast")) -> Path:
    """A 60 s `size`@15 file, GOP 2 s, no B-frames, with sensor-like noise so it really costs `bit_rate`."""
    if path.exists():
        return path
    CACHE.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(".partial.mp4")
    buffer = f"{int(bit_rate.rstrip('kM')) * 2}{bit_rate[-1]}"
    subprocess.run(
        ["ffmpeg", "-loglevel", "error", "-y", "-f", "lavfi", "-i", f"testsrc2=size={size}:rate=15",
         "-t", "60", "-vf", "noise=alls=12:allf=t", "-c:v", "libx264", *encoder,
         "-b:v", bit_rate, "-maxrate", bit_rate, "-bufsize", buffer, "-g", "30", "-bf", "0", "-pix_fmt", "yuv420p",
         str(partial)],
        check=True,
    )
    partial.rename(path)
    return path


def camera_minute_1080p() -> Path:
    """A 60 s 1920x1080@15 main stream at about 4 Mbit/s."""
    return _encode(CACHE / "minute-1080p15-4mbit.mp4", "1920x1080", "4M")


def camera_minute_360p() -> Path:
    """A 60 s 640x360@15 sub stream at about 512 kbit/s in the Main profile (CABAC, deblocking), as cameras'
    sub streams commonly are. It is decoded, so its coding tools matter: x264's ultrafast preset turns both
    off, which no camera does, and made a decode cost a third of a camera stream's (180 against 500 µs)."""
    return _encode(CACHE / "minute-360p15-512k-main.mp4", "640x360", "512k",
                   ("-preset", "veryfast", "-profile:v", "main"))


def looped(minute: Path, minutes: int) -> Path:
    """`minutes` copies of a file back to back, by stream copy (no re-encoding), timestamps running on."""
    path = minute.with_name(f"{minute.stem}-x{minutes}.mp4")
    if path.exists():
        return path
    partial = path.with_suffix(".partial.mp4")
    subprocess.run(["ffmpeg", "-loglevel", "error", "-y", "-stream_loop", str(minutes - 1), "-i", str(minute),
                    "-c", "copy", str(partial)], check=True)
    partial.rename(path)
    return path
