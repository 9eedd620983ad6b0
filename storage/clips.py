"""Clips: any time range of one camera as a single MP4, stitched from segments by stream copy.

The clip starts at the keyframe at or before the requested start (so it is at most one GOP longer than
asked) and keeps real time: a gap in the recording stays a gap in the clip's timeline. The output is a
fragmented MP4, so it can be streamed while it is assembled and still plays in browsers and VLC.

When the H.264 parameters change between segments (a camera switched resolution), the clip stays one
file: its sample entry is `avc3` (parameter sets may come in-band), it keeps the first segment's
SPS/PPS in its header, and every later keyframe coded under others carries its own in front of it,
which is how decoders learn a new resolution mid-stream. Another codec ends the clip there.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any

import av
import av.container

from ingest.parameter_sets import NAL_SPS, ParameterSets, avcc_length_size, avcc_units
from storage.index import Segment

log = logging.getLogger(__name__)
CLIP_MP4 = {"movflags": "frag_keyframe+empty_moov+default_base_moof"}
OUTPUT_TICKS = 90_000  # per second: the clip's time base is 1/90000 whatever the segments use
OUTPUT_TIME_BASE = Fraction(1, OUTPUT_TICKS)
TICK_TOLERANCE = OUTPUT_TICKS // 1000  # 1 ms: keyframe offsets in the index are rounded to the millisecond
WRITE_BUFFER = 1 << 20  # bytes handed to a file object per write
Progress = Callable[[int, int], None]  # (milliseconds written, milliseconds planned)


@dataclass(frozen=True)
class ClipPlan:
    segments: tuple[Segment, ...]
    first_ms: int  # wall time of the clip's first keyframe
    end_ms: int

    @property
    def duration_ms(self) -> int:
        return self.end_ms - self.first_ms


def plan_clip(segments: list[Segment], start_ms: int, end_ms: int) -> ClipPlan | None:
    """Which segments make the clip [start_ms, end_ms), or None when there is no footage in it."""
    chosen = [s for s in sorted(segments, key=lambda s: s.start_ms) if s.start_ms < end_ms and s.end_ms > start_ms]
    if not chosen:
        return None
    first = chosen[0]
    return ClipPlan(tuple(chosen), first.start_ms + first.keyframe_offset(start_ms), min(end_ms, chosen[-1].end_ms))


class _Stitcher:
    """Appends segments to one output track, mapping every packet to clip time."""

    def __init__(self, output: av.container.OutputContainer, plan: ClipPlan) -> None:
        self._output = output
        self._plan = plan
        self._stream: Any = None
        self._extradata: bytes | None = None
        self._codec: str | None = None
        self._length_size = 4  # of the AVCC packets, from the first segment's avcC
        self._last_dts = -1
        self._origin: int | None = None
        self.written_ms = 0

    def add(self, segment: Segment, path: Path, cancelled: Callable[[], bool]) -> bool:
        """Copy the part of `segment` inside the plan; False when the clip must end here."""
        with av.open(str(path)) as source:
            stream = source.streams.video[0]
            prefix = self._parameter_prefix(stream)
            if prefix is None:
                log.warning("%s: the codec changes at %s; the clip ends there", segment.camera, segment.path)
                return False
            in_tb = stream.time_base
            assert in_tb is not None, "a recorded segment has a time base"
            # integer rescaling from the segment's time base to output ticks: cheap per packet
            ticks_num, ticks_den = in_tb.numerator * OUTPUT_TICKS, in_tb.denominator
            offset = (segment.start_ms - self._plan.first_ms) * OUTPUT_TICKS // 1000
            end_ticks = (self._plan.end_ms - self._plan.first_ms) * OUTPUT_TICKS // 1000
            skip_ms = max(0, self._plan.first_ms - segment.start_ms)
            if skip_ms:
                source.seek(int(Fraction(skip_ms, 1000) / in_tb), stream=stream, backward=True, any_frame=False)
            try:
                for packet in source.demux(stream):
                    if cancelled():
                        return False
                    if packet.dts is None or packet.size == 0:
                        continue
                    dts = packet.dts * ticks_num // ticks_den + offset  # clip time, in output ticks
                    if dts < -TICK_TOLERANCE:  # before the first keyframe (ms rounding aside)
                        continue
                    if dts >= end_ticks:
                        return False
                    pts = (packet.pts if packet.pts is not None else packet.dts) * ticks_num // ticks_den + offset
                    self._mux(self._with_parameters(packet, prefix) if prefix and packet.is_keyframe else packet,
                              dts, pts)
                    self.written_ms = dts * 1000 // OUTPUT_TICKS
            except (av.InvalidDataError, av.EOFError):
                pass  # the segment being written ends in a fragment that is not complete yet
        return True

    def _parameter_prefix(self, stream: Any) -> bytes | None:
        """What the segment's keyframes need in front of them in this clip: nothing (b"") when the clip's
        header describes them, its SPS/PPS when they differ, None when the codec differs."""
        context = stream.codec_context
        if self._stream is None:
            self._stream = self._output.add_stream_from_template(stream)
            if context.name == "h264":
                self._stream.codec_context.codec_tag = "avc3"
            self._extradata, self._codec = context.extradata, context.name
            self._length_size = avcc_length_size(self._extradata) or self._length_size
            return b""
        if context.extradata == self._extradata:
            return b""
        if context.name != "h264" or self._codec != "h264":
            return None
        return ParameterSets.from_extradata(context.extradata).length_prefixed(self._length_size)

    def _with_parameters(self, packet: av.Packet, prefix: bytes) -> av.Packet:
        """The keyframe with the SPS/PPS it is coded under in front, unless it carries them already."""
        data = bytes(packet)
        if any(unit[0] & 0x1F == NAL_SPS for unit in avcc_units(data, self._length_size)):
            return packet
        own = av.Packet(prefix + data)
        own.pts, own.dts, own.is_keyframe = packet.pts, packet.dts, True
        return own

    def _mux(self, packet: av.Packet, dts: int, pts: int) -> None:
        if self._origin is None:
            self._origin = dts  # the first keyframe is time zero, exactly
        dts, pts = dts - self._origin, pts - self._origin
        if dts <= self._last_dts:  # recordings overlap by a few ms after a clock resync
            pts += self._last_dts + 1 - dts
            dts = self._last_dts + 1
        self._last_dts = dts
        packet.dts, packet.pts, packet.time_base = dts, pts, OUTPUT_TIME_BASE
        packet.stream = self._stream
        self._output.mux(packet)


def write_clip(plan: ClipPlan, segments_dir: Path, out: Any, *, progress: Progress | None = None,
               cancelled: Callable[[], bool] = lambda: False) -> int:
    """Write the clip to `out` (a path or a writable binary file object); returns the milliseconds written."""
    with av.open(out, "w", format="mp4", options=CLIP_MP4, buffer_size=WRITE_BUFFER) as output:
        stitcher = _Stitcher(output, plan)
        for segment in plan.segments:
            path = segments_dir / segment.path
            if not path.exists():
                log.warning("%s: %s vanished while the clip was made", segment.camera, segment.path)
                continue
            more = stitcher.add(segment, path, cancelled)
            if progress is not None:
                progress(stitcher.written_ms if more else plan.duration_ms, plan.duration_ms)
            if not more:
                break
    return stitcher.written_ms
