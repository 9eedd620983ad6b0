"""Reading back what a segment file holds, including one cut short by a crash.

PyAV is imported when a file is read, not with the module: the supervisor of `nvr run` imports this for the start's
reconcile, which most often has no file to read."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import av.container
    import av.video.stream


@dataclass(frozen=True)
class ProbeResult:
    packets: int
    duration_ms: int
    keyframes_ms: tuple[int, ...]  # offsets from the first packet


class DamagedSegment(Exception):
    """A segment file that does not read as a recording: emptied (a full disk) or cut short before its first
    pictures. A clip goes on without it; an export refuses it (storage/custody.py)."""


def open_recording(file: Any) -> tuple[av.container.InputContainer, av.video.stream.VideoStream]:
    """The segment (a path, or a readable and seekable file object) opened for reading, and its video track;
    DamagedSegment when it is no recording. A path that is gone stays FileNotFoundError."""
    import av

    try:
        source = av.open(file, "r")
    except FileNotFoundError:
        raise
    except (av.FFmpegError, OSError) as exc:  # an empty file object fails its first seek with EINVAL
        raise DamagedSegment(exc.strerror or type(exc).__name__) from exc
    if not source.streams.video:
        source.close()
        raise DamagedSegment("no video track")
    return source, source.streams.video[0]


def probe_segment(path: Path) -> ProbeResult:
    """Demux `path` up to its last readable packet. A file with no readable video gives packets=0."""
    import av

    keyframes: list[int] = []
    packets = 0
    first: float | None = None
    end = 0.0
    try:
        container, stream = open_recording(str(path))
        with container:
            time_base = float(stream.time_base or 0)
            try:
                for packet in container.demux(stream):
                    if packet.is_corrupt:  # cut short by the end of the file (a full disk, a crash): not there
                        break
                    if packet.dts is None or packet.size == 0:
                        continue
                    seconds = packet.dts * time_base
                    first = seconds if first is None else first
                    if packet.is_keyframe:
                        keyframes.append(round((seconds - first) * 1000))
                    end = seconds + (packet.duration or 0) * time_base
                    packets += 1
            except (av.FFmpegError, OSError):
                pass  # a crash leaves a torn last fragment; everything before it counts
    except (DamagedSegment, OSError):
        return ProbeResult(0, 0, ())
    if first is None:
        return ProbeResult(0, 0, ())
    return ProbeResult(packets, round((end - first) * 1000), tuple(keyframes))
