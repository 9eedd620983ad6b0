"""A timed-text track in a clip (MP4 `tx3g`, FFmpeg's mov_text): lines of text shown over the picture for a
span of the clip, such as the station's wall-clock time. VLC, mpv, QuickTime and Windows' player show it;
browsers ignore it.

The track uses the video's time base: FFmpeg's MP4 muxer compares a text track's duration with the next
packet's timestamp whatever stream that packet belongs to, and with two time bases it wrote a negative
sample duration and aborted the process (FFmpeg 5.1).
"""

from __future__ import annotations

import struct
from collections.abc import Iterable
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

import av
import av.container
import av.stream

# The mov_text encoder builds the track's sample description (font, colours, placement) from an ASS style
# header; this one is FFmpeg's default style: white Arial, a thin outline, centred at the bottom.
_STYLE = (
    b"[Script Info]\nScriptType: v4.00+\nPlayResX: 384\nPlayResY: 288\n\n"
    b"[V4+ Styles]\nFormat: Name, Fontname, Fontsize, PrimaryColour, SecondaryColour, OutlineColour, BackColour, "
    b"Bold, Italic, Underline, StrikeOut, ScaleX, ScaleY, Spacing, Angle, BorderStyle, Outline, Shadow, Alignment, "
    b"MarginL, MarginR, MarginV, Encoding\n"
    b"Style: Default,Arial,16,&Hffffff,&Hffffff,&H0,&H0,0,0,0,0,100,100,0,0,1,1,0,2,10,10,10,0\n\n"
    b"[Events]\nFormat: Layer, Start, End, Style, Name, MarginL, MarginR, MarginV, Effect, Text\n"
)


@dataclass(frozen=True)
class Caption:
    start_ms: int  # wall time
    end_ms: int
    text: str


class TextTrack:
    """Captions muxed in step with a clip's video; `first_ms` is the wall time of the clip's time zero."""

    def __init__(self, output: av.container.OutputContainer, captions: Iterable[Caption], first_ms: int,
                 time_base: Fraction) -> None:
        self._stream: Any = output.add_stream("mov_text")
        self._stream.codec_context.subtitle_header = _STYLE
        self._stream.time_base = time_base
        self._stream.disposition = av.stream.Disposition.default  # shown without the viewer choosing it
        self._output = output
        self._ticks_num, self._ticks_den = time_base.denominator, time_base.numerator * 1000  # ticks per ms
        self._first_ms = first_ms
        self._captions = iter(captions)
        self._next = next(self._captions, None)
        self._next_start = self._ticks(self._next.start_ms) if self._next else None

    def mux_until(self, ticks: int) -> None:
        """Mux the captions that start at or before clip time `ticks` (in the track's time base); called for
        every video packet, so the usual answer (nothing yet) is one comparison."""
        while self._next_start is not None and self._next_start <= ticks:
            assert self._next is not None
            caption, start = self._next, self._next_start
            self._next = next(self._captions, None)
            self._next_start = self._ticks(self._next.start_ms) if self._next else None
            text = caption.text.encode()
            packet = av.Packet(struct.pack(">H", len(text)) + text)  # a tx3g sample: length, UTF-8 text
            packet.stream = self._stream
            packet.time_base = self._stream.time_base
            packet.pts = packet.dts = start
            packet.duration = max(1, self._ticks(caption.end_ms) - start)
            self._output.mux(packet)

    def _ticks(self, wall_ms: int) -> int:
        return max(0, (wall_ms - self._first_ms) * self._ticks_num // self._ticks_den)
