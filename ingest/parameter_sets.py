"""H.264 parameter sets (SPS/PPS): where a stream carries them, and when they change.

A camera can change resolution or encoder settings without a reconnect: it then sends new SPS/PPS
in-band in front of a keyframe. Packets come in two framings: Annex B (start codes; RTSP) and AVCC
(length prefixes; MP4), whose prefix size the avcC extradata gives.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass

import av

START_CODE = b"\x00\x00\x00\x01"
NAL_SPS, NAL_PPS = 7, 8


def annexb_units(data: bytes) -> Iterator[memoryview]:
    """The NAL units of an Annex B byte stream (3- or 4-byte start codes), as views: a keyframe's picture
    data (hundreds of KB) is not copied to look at the units' types."""
    view = memoryview(data)
    at = data.find(b"\x00\x00\x01")
    while at != -1:
        begin = at + 3
        at = data.find(b"\x00\x00\x01", begin)
        end = len(data) if at == -1 else at - (1 if data[at - 1] == 0 else 0)
        if end > begin:
            yield view[begin:end]


def avcc_units(data: bytes, length_size: int) -> Iterator[memoryview]:
    """The NAL units of length-prefixed (AVCC) data, as views; a truncated tail is dropped."""
    view = memoryview(data)
    at = 0
    while at + length_size <= len(data):
        size = int.from_bytes(data[at:at + length_size], "big")
        at += length_size
        if size == 0 or at + size > len(data):
            return
        yield view[at:at + size]
        at += size


@dataclass(frozen=True)
class ParameterSets:
    sps: tuple[bytes, ...]
    pps: tuple[bytes, ...]

    @classmethod
    def from_units(cls, units: Iterable[memoryview]) -> ParameterSets:
        """The distinct SPS and PPS among `units` (a payloader may repeat the ones already in-band). Picked before
        they are copied: copying or hashing a keyframe's picture data (hundreds of KB) cost 0.1 ms."""
        distinct = list(dict.fromkeys(bytes(u) for u in units if u[0] & 0x1F in (NAL_SPS, NAL_PPS)))
        return cls(tuple(u for u in distinct if u[0] & 0x1F == NAL_SPS),
                   tuple(u for u in distinct if u[0] & 0x1F == NAL_PPS))

    @classmethod
    def from_extradata(cls, extradata: bytes | None) -> ParameterSets:
        """From a stream's extradata: an avcC record (MP4) or Annex B parameter sets (RTSP's SDP)."""
        if not extradata:
            return cls((), ())
        if extradata[0] != 1:
            return cls.from_units(annexb_units(extradata))
        units: list[bytes] = []
        at = 5
        for count_mask in (0x1F, 0xFF):  # SPS count (low 5 bits), then PPS count
            if at >= len(extradata):
                break
            count, at = extradata[at] & count_mask, at + 1
            for _ in range(count):
                size = int.from_bytes(extradata[at:at + 2], "big")
                units.append(extradata[at + 2:at + 2 + size])
                at += 2 + size
        return cls.from_units([memoryview(u) for u in units if u])

    def __bool__(self) -> bool:
        return bool(self.sps and self.pps)

    def annexb(self) -> bytes:
        """As Annex B extradata (the MP4 muxer turns it into an avcC record)."""
        return b"".join(START_CODE + unit for unit in self.sps + self.pps)

    def avcc_record(self, length_size: int) -> bytes:
        """As an avcC record (ISO/IEC 14496-15), the extradata of length-prefixed packets; profile, compatibility
        and level from the first SPS."""
        sps = self.sps[0]
        record = bytes([1, sps[1], sps[2], sps[3], 0xFC | (length_size - 1), 0xE0 | len(self.sps)])
        record += b"".join(len(unit).to_bytes(2, "big") + unit for unit in self.sps)
        return record + bytes([len(self.pps)]) + b"".join(len(unit).to_bytes(2, "big") + unit for unit in self.pps)

    def length_prefixed(self, length_size: int) -> bytes:
        """As AVCC NAL units, to put in front of a keyframe's own."""
        return b"".join(len(unit).to_bytes(length_size, "big") + unit for unit in self.sps + self.pps)


def avcc_length_size(extradata: bytes | None) -> int | None:
    """The NAL length prefix size of AVCC packets, or None when the packets are Annex B."""
    if extradata and extradata[0] == 1 and len(extradata) > 4:
        return (extradata[4] & 0x03) + 1
    return None


def packet_units(data: bytes, length_size: int | None) -> Iterator[memoryview]:
    return annexb_units(data) if length_size is None else avcc_units(data, length_size)


@dataclass(frozen=True)
class StreamParameters:
    """What a segment's MP4 header must say for pictures coded under new parameter sets."""

    extradata: bytes  # in the packets' own framing: Annex B SPS/PPS, or an avcC record for length-prefixed ones
    width: int
    height: int


class ParameterWatch:
    """Follows one H.264 stream's parameter sets; `changed` tells when a keyframe brings new ones."""

    def __init__(self, extradata: bytes | None, width: int, height: int) -> None:
        self._current = ParameterSets.from_extradata(extradata)
        self._length_size = avcc_length_size(extradata)
        self._size = (width, height)

    def changed(self, keyframe: bytes) -> StreamParameters | None:
        """The stream's new parameters when the keyframe brings parameter sets that differ from the
        current ones (its picture size by decoding it; unchanged if it cannot be decoded)."""
        inband = ParameterSets.from_units(packet_units(keyframe, self._length_size))
        if not inband or inband == self._current:
            return None
        self._current = inband
        self._size = picture_size(inband, keyframe, self._length_size) or self._size
        # an MP4 header's extradata says how the packets are framed: Annex B there made the muxer look for start
        # codes in a file camera's length-prefixed packets, and its segments after a size change held no picture
        extradata = inband.annexb() if self._length_size is None else inband.avcc_record(self._length_size)
        return StreamParameters(extradata, *self._size)


def picture_size(parameter_sets: ParameterSets, keyframe: bytes, length_size: int | None) -> tuple[int, int] | None:
    """Width and height of a keyframe under `parameter_sets`, by decoding it (parsing an SPS by hand
    would repeat what the decoder knows, cropping and all); None when it cannot be decoded."""
    annexb = parameter_sets.annexb() + b"".join(START_CODE + unit for unit in packet_units(keyframe, length_size))
    decoder = av.CodecContext.create("h264", "r")
    try:
        frames = decoder.decode(av.Packet(annexb)) + decoder.decode(None)
    except av.FFmpegError:
        return None
    return (frames[0].width, frames[0].height) if frames else None
