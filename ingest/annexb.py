"""H.264 and H.265 as WebRTC (and a decoder fed packet by packet) want them: Annex B start codes, with the
parameter sets in front of every keyframe.

MP4 files carry length-prefixed packets and keep the parameter sets in the header (avcC, hvcC); cameras
over RTSP send Annex B but often give the parameter sets only in the SDP. Either way each keyframe must
carry them in-band.
"""

from __future__ import annotations

import av
import av.stream
from av.bitstream import BitStreamFilterContext

from ingest.parameter_sets import NAL_SPS, annexb_units

TO_ANNEX_B = {"h264": "h264_mp4toannexb", "hevc": "hevc_mp4toannexb"}
HEVC_NAL_SPS = 33


def has_sps(data: bytes, codec: str) -> bool:
    """Whether Annex B `data` carries a sequence parameter set (the NAL header differs between codecs)."""
    if codec == "hevc":
        return any((unit[0] >> 1) & 0x3F == HEVC_NAL_SPS for unit in annexb_units(data))
    return any(unit[0] & 0x1F == NAL_SPS for unit in annexb_units(data))


class AnnexBConverter:
    def __init__(self, stream: av.stream.Stream) -> None:
        self._codec = stream.codec_context.name
        extradata = stream.codec_context.extradata or b""
        length_prefixed = extradata[:1] == b"\x01"  # avcC and hvcC both start with version 1
        self._filter = (BitStreamFilterContext(TO_ANNEX_B[self._codec], stream)
                        if length_prefixed and self._codec in TO_ANNEX_B else None)
        self._parameter_sets = b"" if length_prefixed else extradata

    def convert(self, packet: av.Packet) -> bytes:
        """The packet's payload in Annex B, parameter sets included when it is a keyframe."""
        if self._filter is not None:
            own = av.Packet(bytes(packet))  # the filter takes over the packet it is given: not the original
            own.pts, own.dts, own.time_base = packet.pts, packet.dts, packet.time_base
            own.is_keyframe = packet.is_keyframe
            return b"".join(bytes(p) for p in self._filter.filter(own))
        data = bytes(packet)
        if packet.is_keyframe and self._parameter_sets and not has_sps(data, self._codec):
            data = self._parameter_sets + data
        return data
