"""A clip's audio track: the first segment's, copied from every segment whose audio is coded the same way.

Segments of one camera share their audio parameters (AAC as the camera sends it, or the station's own AAC
for G.711), so a clip normally keeps all of it. A segment without audio, or with audio coded otherwise
(the camera's settings changed), leaves a silence in the clip rather than ending it.
"""

from __future__ import annotations

from typing import Any

import av
import av.container

from storage.segment_file import with_audio


class ClipAudio:
    def __init__(self, output: av.container.OutputContainer, options: dict[str, str]) -> None:
        """`options`: the clip's MP4 options, completed for an audio track when the clip has one."""
        self._output = output
        self._options = options
        self._stream: Any = None
        self._coding: tuple[str, int, bytes | None] | None = None
        self._last_dts = -1

    def first(self, source: av.container.InputContainer) -> None:
        """The clip's first segment: its audio, if any, makes the clip's audio track."""
        if not source.streams.audio:
            return
        template = source.streams.audio[0]
        self._stream = self._output.add_stream_from_template(template)
        self._coding = _coding(template)
        self._output.options.update(with_audio(self._options))  # read when the header is written

    def of(self, source: av.container.InputContainer) -> Any:
        """The segment's audio stream when the clip copies it, else None."""
        if self._coding is None or not source.streams.audio:
            return None
        stream = source.streams.audio[0]
        return stream if _coding(stream) == self._coding else None

    def mux(self, packet: av.Packet, dts: int, pts: int, time_base: Any) -> None:
        """One packet at clip time `dts` (>= 0); one that overlaps what was written (an encoder's priming
        packet where segments meet) is left out."""
        if dts <= self._last_dts:
            return
        self._last_dts = dts
        packet.dts, packet.pts, packet.time_base = dts, pts, time_base
        packet.stream = self._stream
        self._output.mux(packet)


def _coding(stream: Any) -> tuple[str, int, bytes | None]:
    context = stream.codec_context
    return context.name, context.sample_rate, context.extradata
