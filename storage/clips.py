"""Clips: any time range of one camera as a single MP4, stitched from segments by stream copy.

The clip starts at the keyframe at or before the requested start (so it is at most one GOP longer than
asked) and keeps real time: a gap in the recording stays a gap in the clip's timeline. The output is a
fragmented MP4, so it can be streamed while it is assembled and still plays in browsers and VLC.

When the H.264 parameters change between segments (a camera switched resolution), the clip stays one
file: its sample entry is `avc3` (parameter sets may come in-band), it keeps the first segment's
SPS/PPS in its header, and every later keyframe coded under others carries its own in front of it,
which is how decoders learn a new resolution mid-stream. Another codec ends the clip there.

Segments are read through files the caller may open (an export opens each one checked against its recorded
hash), and captions (the station's wall-clock time) may go along as a timed-text track. A segment file that is
no recording (emptied by a full disk, cut short) is left out as a missing one is: the clip keeps the footage
around it, with a gap in its place (an export refuses it instead: storage/custody.py).
The camera's audio, when recorded, comes along on the same clip timeline (storage/clip_audio.py).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any, BinaryIO

import av
import av.container

from ingest.parameter_sets import NAL_SPS, ParameterSets, avcc_length_size, avcc_units
from storage.clip_audio import ClipAudio
from storage.custody import CheckedSegment
from storage.index import Segment
from storage.probe import DamagedSegment, open_recording
from storage.timed_text import Caption, TextTrack

log = logging.getLogger(__name__)
CLIP_MP4 = {"movflags": "frag_keyframe+empty_moov+default_base_moof"}
OUTPUT_TICKS = 90_000  # per second: the clip's time base is 1/90000 whatever the segments use
OUTPUT_TIME_BASE = Fraction(1, OUTPUT_TICKS)
TICK_TOLERANCE = OUTPUT_TICKS // 1000  # 1 ms: keyframe offsets in the index are rounded to the millisecond
AUDIO_AFTER_END_TICKS = 2 * OUTPUT_TICKS  # pictures read past the clip's end while its sound may still come
WRITE_BUFFER = 1 << 20  # bytes handed to a file object per write
Progress = Callable[[int, int], None]  # (milliseconds written, milliseconds planned)
SegmentOpener = Callable[[Segment], BinaryIO | CheckedSegment]  # FileNotFoundError when the file is gone


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


def _scale(time_base: Fraction | None) -> tuple[int, int]:
    """Integer rescaling from a segment's time base to output ticks (multiply, then floor-divide): cheap per
    packet."""
    assert time_base is not None, "a recorded segment has a time base"
    return time_base.numerator * OUTPUT_TICKS, time_base.denominator


class _Stitcher:
    """Appends segments to the output's tracks, mapping every packet to clip time."""

    def __init__(self, output: av.container.OutputContainer, plan: ClipPlan,
                 captions: Iterable[Caption] | None) -> None:
        self._output = output
        self._plan = plan
        self._captions = captions
        self._text: TextTrack | None = None
        self._audio = ClipAudio(output, CLIP_MP4)
        self._stream: Any = None
        self._extradata: bytes | None = None
        self._codec: str | None = None
        self._length_size = 4  # of the AVCC packets, from the first segment's avcC
        self._last_dts: int | None = None
        self._origin: int | None = None
        self.written_ms = 0

    def add(self, segment: Segment, file: BinaryIO | CheckedSegment, cancelled: Callable[[], bool]) -> bool:
        """Copy the part of `segment` inside the plan; False when the clip must end here. DamagedSegment when
        the file is no recording."""
        source, stream = open_recording(file)
        with source:
            first = self._stream is None
            prefix = self._parameter_prefix(stream)
            if prefix is None:
                log.warning("%s: the codec changes at %s; the clip ends there", segment.camera, segment.path)
                return False
            if first:
                self._audio.first(source)
            audio = self._audio.of(source)
            tracks = [stream] if audio is None else [stream, audio]
            scales = {track.index: _scale(track.time_base) for track in tracks}
            offset = (segment.start_ms - self._plan.first_ms) * OUTPUT_TICKS // 1000
            end_ticks = (self._plan.end_ms - self._plan.first_ms) * OUTPUT_TICKS // 1000
            skip_ms = max(0, self._plan.first_ms - segment.start_ms)
            if skip_ms:
                in_tb = stream.time_base
                assert in_tb is not None, "a recorded segment has a time base"
                source.seek(int(Fraction(skip_ms, 1000) / in_tb), stream=stream, backward=True, any_frame=False)
            try:
                for packet in source.demux(*tracks):
                    if cancelled():
                        return False
                    if packet.dts is None or packet.size == 0:
                        continue
                    ticks_num, ticks_den = scales[packet.stream.index]
                    dts = packet.dts * ticks_num // ticks_den + offset  # clip time, in output ticks
                    pts = (packet.pts if packet.pts is not None else packet.dts) * ticks_num // ticks_den + offset
                    if packet.stream is audio:
                        if dts >= end_ticks:
                            return False
                        if self._origin is not None and dts >= self._origin:  # not before the first picture
                            self._audio.mux(packet, dts - self._origin, pts - self._origin, OUTPUT_TIME_BASE)
                        continue
                    # the index knows a keyframe by when it is shown (its pts): with B-frames it is decoded earlier
                    if pts < -TICK_TOLERANCE or (self._origin is None and not packet.is_keyframe):
                        continue  # before the clip's first keyframe (ms rounding aside), or not decodable from it
                    if dts >= end_ticks:  # a fragment's sound is stored after its pictures: read on for it
                        if audio is None or dts >= end_ticks + AUDIO_AFTER_END_TICKS:
                            return False
                        continue
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
            if self._captions is not None:
                self._text = TextTrack(self._output, self._captions, self._plan.first_ms, OUTPUT_TIME_BASE)
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
            self._origin = pts  # the first keyframe is shown at time zero, exactly (decoded earlier with B-frames)
        dts, pts = dts - self._origin, pts - self._origin
        if self._last_dts is not None and dts <= self._last_dts:  # recordings overlap by a few ms after a clock resync
            pts += self._last_dts + 1 - dts
            dts = self._last_dts + 1
        self._last_dts = dts
        if self._text is not None:  # the clip's time zero is its first keyframe, at plan.first_ms (to 1 ms)
            self._text.mux_until(dts)
        packet.dts, packet.pts, packet.time_base = dts, pts, OUTPUT_TIME_BASE
        packet.stream = self._stream
        self._output.mux(packet)


def write_clip(plan: ClipPlan, segments_dir: Path, out: Any, *, progress: Progress | None = None,
               cancelled: Callable[[], bool] = lambda: False, open_segment: SegmentOpener | None = None,
               captions: Iterable[Caption] | None = None, metadata: dict[str, str] | None = None) -> int:
    """Write the clip to `out` (a path or a writable binary file object); returns the milliseconds written.
    `open_segment` opens each segment to read (default: its file under `segments_dir`); `captions` (in wall
    time) become a timed-text track; `metadata` goes into the MP4 header (`creation_time`, `title`)."""
    opener = open_segment or (lambda segment: (segments_dir / segment.path).open("rb"))
    with av.open(out, "w", format="mp4", options=CLIP_MP4, buffer_size=WRITE_BUFFER) as output:
        output.metadata.update(metadata or {})
        stitcher = _Stitcher(output, plan, captions)
        for segment in plan.segments:
            try:
                file = opener(segment)
            except FileNotFoundError:
                log.warning("%s: %s vanished while the clip was made", segment.camera, segment.path)
                continue
            try:
                with file:
                    more = stitcher.add(segment, file, cancelled)
            except DamagedSegment as exc:  # a checked segment's reader says CustodyError instead
                log.warning("%s: %s cannot be read as a recording (%s); the clip goes on without it",
                            segment.camera, segment.path, exc)
                continue
            if progress is not None:
                progress(stitcher.written_ms if more else plan.duration_ms, plan.duration_ms)
            if not more:
                break
    return stitcher.written_ms
