"""Small real H.264 files for tests, made with ffmpeg (an independent encoder, not our code)."""

from __future__ import annotations

import subprocess
from pathlib import Path

from ingest.demo.synthetic import SceneSpec, first_frames, ground_truth
from ingest.demo.world import Mover


def encode_video(path: Path, *, seconds: float, size: str = "160x120", fps: int = 15, gop: int = 15,
                 bitrate: str | None = None, b_frames: int = 0) -> Path:
    """An MP4 of ffmpeg's moving test pattern: a keyframe every `gop` frames (`bitrate`: e.g. "2M"), no B-frames
    unless asked (some cameras send them: a keyframe is then decoded before the frames shown ahead of it)."""
    rate = ["-b:v", bitrate] if bitrate else []
    subprocess.run(["ffmpeg", "-loglevel", "error", "-f", "lavfi", "-i", f"testsrc2=size={size}:rate={fps}",
                    "-t", str(seconds), "-c:v", "libx264", "-g", str(gop), "-keyint_min", str(gop), "-sc_threshold",
                    "0", "-bf", str(b_frames), *rate, str(path)], check=True)
    return path


def motorbike_scene(seconds: float = 16.0, enters: tuple[float, ...] = (6.0,), night_from: float | None = None,
                    seed: int = 5) -> SceneSpec:
    """A shopfront at 640x360@15 where a motorbike crosses (about 5 s) from each of `enters`; IR night from
    `night_from`."""
    bikes = tuple(Mover("motorbike", ((-16.0, 7.8), (16.0, 7.8)), start=start, speed=6.0, look=3 + i)
                  for i, start in enumerate(enters))
    infrared = ((night_from, seconds + 1.0),) if night_from is not None else ()
    return SceneSpec(seed=seed, place="shopfront", width=640, height=360, fps=15, seconds=seconds, movers=bikes,
                     infrared=infrared)


def onsets(spec: SceneSpec, fraction: float = 0.003) -> list[float]:
    """When each mover first covers `fraction` of the frame (ground truth), in seconds, earliest first."""
    first = first_frames((ground_truth(spec, index) for index in range(spec.frame_count)),
                         fraction * spec.width * spec.height)
    return sorted(index / spec.fps for index in first.values())


def quiet_scene(seconds: float = 24.0) -> SceneSpec:
    """An alley at 640x360@15 in daylight where nothing moves."""
    return SceneSpec(seed=6, place="alley", width=640, height=360, fps=15, seconds=seconds)


def encode_size_change(path: Path, sizes: tuple[str, ...] = ("320x240", "160x120"), *, seconds: float = 3,
                       fps: int = 15, gop: int = 15) -> Path:
    """An MP4 whose resolution changes mid-stream: ffmpeg encodes of each size, their H.264 byte streams
    (in-band SPS/PPS) put one after the other, muxed without re-encoding."""
    parts = []
    for index, size in enumerate(sizes):
        part = path.with_name(f"{path.stem}-{index}.h264")
        subprocess.run(["ffmpeg", "-loglevel", "error", "-y", "-f", "lavfi", "-i", f"testsrc2=size={size}:rate={fps}",
                        "-t", str(seconds), "-c:v", "libx264", "-g", str(gop), "-bf", "0", "-pix_fmt", "yuv420p",
                        str(part)], check=True)
        parts.append(part.read_bytes())
        part.unlink()
    raw = path.with_suffix(".h264")
    raw.write_bytes(b"".join(parts))
    subprocess.run(["ffmpeg", "-loglevel", "error", "-y", "-f", "h264", "-framerate", str(fps), "-i", str(raw),
                    "-c", "copy", str(path)], check=True)
    raw.unlink()
    return path
