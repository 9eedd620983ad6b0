"""A clip for in-browser playback of a camera whose recordings browsers cannot decode (H.265): the same
range as `storage.clips.write_clip`, decoded and encoded again as H.264, at most 720 lines high.

Only the station screen's player asks for it; downloads and exports stay the original stream copy. It
costs a decode and an encode per frame (benchmarks/transcode.py), so it runs in the clip writer thread
and stops as soon as the viewer goes.
"""

from __future__ import annotations

from collections.abc import Callable
from fractions import Fraction
from pathlib import Path
from typing import Any

import av
import av.container
from av.video.frame import PictureType

from ingest.browser_h264 import encoder_options, scaled_size
from storage.clips import CLIP_MP4, OUTPUT_TIME_BASE, WRITE_BUFFER, ClipPlan
from storage.index import Segment
from storage.probe import DamagedSegment, open_recording

PLAYABLE = "h264"
KEYFRAME_FRAMES = 15  # a keyframe a second or two: the player seeks to any of them


def segment_codec(path: Path) -> str | None:
    """The video codec of a recorded segment (None when it cannot be read)."""
    try:
        with av.open(str(path)) as source:
            return source.streams.video[0].codec_context.name
    except (av.FFmpegError, OSError, IndexError):
        return None


class _Encoder:
    """The clip's one H.264 track, opened at the first picture's size."""

    def __init__(self, output: av.container.OutputContainer) -> None:
        self._output = output
        self._stream: Any = None

    def add(self, picture: av.VideoFrame, clip_seconds: float) -> None:
        if self._stream is None:
            self._stream = self._output.add_stream("libx264", options=encoder_options(KEYFRAME_FRAMES))
            self._stream.width, self._stream.height = scaled_size(picture.width, picture.height)
            self._stream.pix_fmt = "yuv420p"
            self._stream.time_base = OUTPUT_TIME_BASE
        scaled = picture.reformat(width=self._stream.width, height=self._stream.height, format="yuv420p")
        scaled.pts, scaled.time_base = round(clip_seconds / OUTPUT_TIME_BASE), OUTPUT_TIME_BASE
        scaled.pict_type = PictureType.NONE  # the source's frame types are not this encoder's business
        self._output.mux(self._stream.encode(scaled))

    def finish(self) -> None:
        if self._stream is not None:
            self._output.mux(self._stream.encode(None))


def write_transcoded_clip(plan: ClipPlan, segments_dir: Path, out: Any,
                          cancelled: Callable[[], bool] = lambda: False) -> None:
    """Write the clip to `out` (a path or a writable binary file object) as H.264."""
    with av.open(out, "w", format="mp4", options=CLIP_MP4, buffer_size=WRITE_BUFFER) as output:
        encoder = _Encoder(output)
        for segment in plan.segments:
            if not _add_segment(encoder, plan, segment, segments_dir / segment.path, cancelled):
                break
        encoder.finish()


def _add_segment(encoder: _Encoder, plan: ClipPlan, segment: Segment, path: Path,
                 cancelled: Callable[[], bool]) -> bool:
    """The segment's pictures inside the plan; False when the clip ends here."""
    try:
        source, stream = open_recording(str(path))
    except (FileNotFoundError, DamagedSegment):  # left out, as by the stream copy (storage/clips.py)
        return True
    with source:
        stream.thread_type = "SLICE"
        skip_ms = max(0, plan.first_ms - segment.start_ms)
        assert stream.time_base is not None, "a recorded segment has a time base"
        if skip_ms:
            source.seek(int(Fraction(skip_ms, 1000) / stream.time_base), stream=stream, backward=True)
        try:
            for picture in source.decode(stream):
                if cancelled():
                    return False
                wall_ms = segment.start_ms + float(picture.time or 0) * 1000
                if wall_ms < plan.first_ms:
                    continue
                if wall_ms >= plan.end_ms:
                    return False
                encoder.add(picture, (wall_ms - plan.first_ms) / 1000)
        except (av.InvalidDataError, av.EOFError):
            pass  # the segment being written ends in a fragment that is not complete yet
    return True
