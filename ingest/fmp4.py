"""Fragmented MP4 of one live H.264 track, as Media Source Extensions and FFmpeg read it: an init segment
(ftyp, moov with the avcC of the stream's SPS/PPS) and then fragments (moof, mdat), each a run of whole
access units. Written box by box here rather than by FFmpeg's muxer: the live view cuts fragments where it
wants them (a new one at every keyframe), knows at once when one is complete, and the district recognises
a keyframe's fragment and a new init segment from the box headers alone, never copying a picture.

Only H.264 without B-frames (the order frames arrive in is the order they are shown), which is what IP
cameras send and what the WebRTC live view assumes too.
"""

from __future__ import annotations

import struct
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from ingest.parameter_sets import ParameterSets, annexb_units

TIMESCALE = 90_000  # the track's ticks per second, RTP's for video
TRACK_ID = 1
_KEY_FLAGS = 0x02000000  # sample_depends_on = 2: a sync sample
_DELTA_FLAGS = 0x01010000  # sample_depends_on = 1, sample_is_non_sync_sample
_MATRIX = struct.pack(">9I", 0x10000, 0, 0, 0, 0x10000, 0, 0, 0, 0x40000000)


def box(kind: bytes, *parts: bytes) -> bytes:
    payload = b"".join(parts)
    return struct.pack(">I4s", 8 + len(payload), kind) + payload


def full_box(kind: bytes, version: int, flags: int, *parts: bytes) -> bytes:
    return box(kind, struct.pack(">I", (version << 24) | flags), *parts)


def init_segment(parameter_sets: ParameterSets, width: int, height: int) -> bytes:
    """ftyp and moov of a single video track with no samples of its own (they come in fragments)."""
    ftyp = box(b"ftyp", b"iso5", struct.pack(">I", 512), b"iso5iso6avc1mp41")
    mvhd = full_box(b"mvhd", 0, 0, struct.pack(">IIIIIH10x", 0, 0, 1000, 0, 0x10000, 0x0100), _MATRIX,
                    bytes(24), struct.pack(">I", TRACK_ID + 1))
    tkhd = full_box(b"tkhd", 0, 3, struct.pack(">IIIII8xHHH2x", 0, 0, TRACK_ID, 0, 0, 0, 0, 0), _MATRIX,
                    struct.pack(">II", width << 16, height << 16))
    mdhd = full_box(b"mdhd", 0, 0, struct.pack(">IIIIHH", 0, 0, TIMESCALE, 0, 0x55C4, 0))  # language "und"
    hdlr = full_box(b"hdlr", 0, 0, struct.pack(">I4s12x", 0, b"vide"), b"VideoHandler\x00")
    entry = box(b"avc1", bytes(6), struct.pack(">H16xHHIIIH32sHh", 1, width, height, 0x480000, 0x480000, 0, 1,
                                               bytes(32), 0x18, -1), box(b"avcC", parameter_sets.avcc_record(4)))
    stbl = box(b"stbl", full_box(b"stsd", 0, 0, struct.pack(">I", 1), entry),
               *(full_box(kind, 0, 0, struct.pack(">I", 0)) for kind in (b"stts", b"stsc", b"stco")),
               full_box(b"stsz", 0, 0, struct.pack(">II", 0, 0)))
    dinf = box(b"dinf", full_box(b"dref", 0, 0, struct.pack(">I", 1), full_box(b"url ", 0, 1)))
    minf = box(b"minf", full_box(b"vmhd", 0, 1, bytes(8)), dinf, stbl)
    trak = box(b"trak", tkhd, box(b"mdia", mdhd, hdlr, minf))
    mvex = box(b"mvex", full_box(b"trex", 0, 0, struct.pack(">IIIII", TRACK_ID, 1, 0, 0, 0)))
    return ftyp + box(b"moov", mvhd, trak, mvex)


@dataclass(frozen=True)
class Sample:
    data: bytes  # the access unit, NAL units with 4-byte lengths
    duration: int  # ticks
    keyframe: bool


def length_prefixed(annexb: bytes) -> bytes:
    """An Annex B access unit as MP4 carries it: each NAL unit behind its 4-byte length."""
    return b"".join(struct.pack(">I", len(unit)) + unit for unit in annexb_units(annexb))


def fragment(sequence: int, decode_time: int, samples: Sequence[Sample]) -> bytes:
    """moof and mdat of `samples` starting at `decode_time` (ticks since the stream's start)."""
    first_flags = _KEY_FLAGS if samples[0].keyframe else _DELTA_FLAGS
    runs = b"".join(struct.pack(">II", s.duration, len(s.data)) for s in samples)
    tfhd = full_box(b"tfhd", 0, 0x020020, struct.pack(">II", TRACK_ID, _DELTA_FLAGS))  # base is moof, flags
    tfdt = full_box(b"tfdt", 1, 0, struct.pack(">Q", decode_time))
    trun_size = 8 + 4 + 4 + 4 + 4 + len(runs)
    moof_size = 8 + 16 + 8 + len(tfhd) + len(tfdt) + trun_size
    trun = full_box(b"trun", 0, 0x000305, struct.pack(">IiI", len(samples), moof_size + 8, first_flags), runs)
    moof = box(b"moof", full_box(b"mfhd", 0, 0, struct.pack(">I", sequence)), box(b"traf", tfhd, tfdt, trun))
    assert len(moof) == moof_size
    return moof + box(b"mdat", *(s.data for s in samples))


MAX_BOX = 64 << 20  # a live fragment of a 4K camera at 16 Mbit/s is a few MB: a larger box is a stream gone wrong


class BoxReader:
    """Splits a byte stream into top-level boxes, whatever the chunks it arrives in. A box announcing more than
    MAX_BOX is refused (ValueError): it was buffered while its end was awaited, without bound."""

    def __init__(self) -> None:
        self._pending = bytearray()

    def feed(self, chunk: bytes) -> Iterator[tuple[bytes, bytes]]:
        """The (type, whole box) completed by `chunk`."""
        self._pending += chunk
        at = 0
        while len(self._pending) - at >= 8:
            size, kind = struct.unpack_from(">I4s", self._pending, at)
            if size < 8 or size > MAX_BOX:
                raise ValueError(f"a box of {size} bytes")  # 0 (to the end) and 1 (64-bit) are not live's
            if len(self._pending) - at < size:
                break
            yield kind, bytes(self._pending[at:at + size])
            at += size
        del self._pending[:at]


def children(data: bytes, start: int = 8) -> Iterator[tuple[bytes, int, int]]:
    """(type, start, end) of the boxes inside the box `data` from `start`."""
    at = start
    while at + 8 <= len(data):
        size, kind = struct.unpack_from(">I4s", data, at)
        if size < 8:
            return
        yield kind, at, min(at + size, len(data))
        at += size


def starts_with_keyframe(moof: bytes) -> bool:
    """Whether a fragment's first sample is a sync sample, by its trun's (or tfhd's) sample flags."""
    for kind, start, end in children(moof):
        if kind != b"traf":
            continue
        flags = None
        for inner, at, _ in children(moof[start:end]):
            box_flags = int.from_bytes(moof[start + at + 9:start + at + 12], "big")
            if inner == b"tfhd" and box_flags & 0x20:
                optional = 8 * bool(box_flags & 0x1) + 4 * sum(bool(box_flags & f) for f in (0x2, 0x8, 0x10))
                flags = int.from_bytes(moof[start + at + 16 + optional:start + at + 20 + optional], "big")
            elif inner == b"trun" and box_flags & 0x4:
                first = start + at + 16 + 4 * bool(box_flags & 0x1)
                flags = int.from_bytes(moof[first:first + 4], "big")
            elif inner == b"trun" and box_flags & 0x400:
                skip = 4 * sum(bool(box_flags & f) for f in (0x100, 0x200))
                first = start + at + 16 + 4 * bool(box_flags & 0x1) + skip
                flags = int.from_bytes(moof[first:first + 4], "big")
        return flags is not None and not flags & 0x10000 and (flags >> 24) & 0x3 != 1
    return False
