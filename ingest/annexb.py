"""H.264 as WebRTC wants it: Annex B start codes, with SPS/PPS in front of every keyframe.

MP4 files carry length-prefixed (AVCC) packets and keep SPS/PPS in the header; cameras over RTSP send
Annex B but often give SPS/PPS only in the SDP. Either way each keyframe must carry them in-band.
"""

from __future__ import annotations

import av
import av.stream
from av.bitstream import BitStreamFilterContext

from ingest.parameter_sets import NAL_SPS, annexb_units


def _nal_types(data: bytes) -> set[int]:
    return {unit[0] & 0x1F for unit in annexb_units(data)}


class AnnexBConverter:
    def __init__(self, stream: av.stream.Stream) -> None:
        extradata = stream.codec_context.extradata or b""
        self._avcc = extradata[:1] == b"\x01"
        self._filter = BitStreamFilterContext("h264_mp4toannexb", stream) if self._avcc else None
        self._parameter_sets = b"" if self._avcc else extradata

    def convert(self, packet: av.Packet) -> bytes:
        """The packet's payload in Annex B, SPS/PPS included when it is a keyframe."""
        if self._filter is not None:
            own = av.Packet(bytes(packet))  # the filter takes over the packet it is given: not the original
            own.pts, own.dts, own.time_base = packet.pts, packet.dts, packet.time_base
            own.is_keyframe = packet.is_keyframe
            return b"".join(bytes(p) for p in self._filter.filter(own))
        data = bytes(packet)
        if packet.is_keyframe and self._parameter_sets and NAL_SPS not in _nal_types(data):
            data = self._parameter_sets + data
        return data
