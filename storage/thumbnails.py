"""Keyframe thumbnails: the picture of the keyframe at or before an instant, small, as a JPEG.

For the timeline's hover and scrubbing. Only the keyframe is decoded (no picture depends on another), the
result is kept in a small cache keyed by the keyframe, so a pointer moving back and forth over the same
seconds costs nothing, and at most DECODERS decodes run at once whatever the number of screens.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from fractions import Fraction
from pathlib import Path

import av
import cv2

from storage.index import Segment
from storage.leases import SegmentLeases
from storage.probe import DamagedSegment, open_recording

THUMBNAIL_WIDTH = 192
JPEG_QUALITY = 70
CACHE_ENTRIES = 512  # about 8 KB each
DECODERS = 2


def _decode_keyframe(path: Path, offset_ms: int) -> bytes | None:
    """The keyframe `offset_ms` into the segment file, scaled to THUMBNAIL_WIDTH, as a JPEG."""
    try:
        frame = _keyframe_by_seeking(path, offset_ms)
    except (FileNotFoundError, DamagedSegment):  # first: PyAV's FileNotFoundError is an FFmpegError too
        frame = None  # taken by retention meanwhile, or damaged (emptied, cut short)
    except av.FFmpegError:  # the segment being written has no index to seek by yet (FFmpeg says EPERM): found in
        # review, the timeline's hover at the live edge answered 500
        frame = _keyframe_by_reading(path, offset_ms)
    if frame is None:
        return None  # as where nothing was recorded
    height = max(2, round(THUMBNAIL_WIDTH * frame.height / frame.width / 2) * 2)
    small = frame.reformat(width=THUMBNAIL_WIDTH, height=height, format="bgr24").to_ndarray()
    ok, encoded = cv2.imencode(".jpg", small, [cv2.IMWRITE_JPEG_QUALITY, JPEG_QUALITY])
    return encoded.tobytes() if ok else None


def _keyframe_by_seeking(path: Path, offset_ms: int) -> av.VideoFrame | None:
    source, stream = open_recording(str(path))
    with source:
        assert stream.time_base is not None, "a recorded segment has a time base"
        source.seek(int(Fraction(offset_ms, 1000) / stream.time_base), stream=stream, backward=True,
                    any_frame=False)
        try:
            return next(source.decode(stream), None)
        except (av.InvalidDataError, av.EOFError):
            return None  # cut short there


def _keyframe_by_reading(path: Path, offset_ms: int) -> av.VideoFrame | None:
    """The keyframe `offset_ms` into the file, found by reading the packets from the file's start (no decoding but
    of that one): what the segment being written allows. None while its fragment is incomplete (not an earlier
    keyframe: the picture is kept under this keyframe's key)."""
    try:
        source, stream = open_recording(str(path))
    except (FileNotFoundError, DamagedSegment):
        return None
    with source:
        assert stream.time_base is not None, "a recorded segment has a time base"
        tolerance = Fraction(2, 1000) / stream.time_base  # keyframes_ms are whole milliseconds
        wanted = Fraction(offset_ms, 1000) / stream.time_base
        keyframe = None
        try:
            for packet in source.demux(stream):
                if packet.pts is None:
                    continue
                if packet.pts > wanted + tolerance:
                    break
                if packet.is_keyframe and abs(packet.pts - wanted) <= tolerance:
                    keyframe = packet
                    break
        except av.FFmpegError:
            pass  # the fragment being written
        if keyframe is None:
            return None
        try:
            frames = [*stream.codec_context.decode(keyframe), *stream.codec_context.decode(None)]
        except av.FFmpegError:
            return None
        return frames[0] if frames else None


class Thumbnails:
    def __init__(self, segments_dir: Path, leases: SegmentLeases) -> None:
        self._segments_dir = segments_dir
        self._leases = leases
        self._cache: OrderedDict[tuple[str, int], bytes] = OrderedDict()
        self._lock = threading.Lock()
        self._decoders = threading.BoundedSemaphore(DECODERS)

    def picture(self, segments: list[Segment], at_ms: int, reach_ms: int = 0) -> bytes | None:
        """The thumbnail of the keyframe at or before `at_ms` in the segment (of `segments`) that holds it, or that
        ended less than `reach_ms` before it; None when there is none. At the live edge the newest segment's first
        keyframe may not be readable yet (its fragment is being written): the one before it answers. Blocking: call
        it from a worker thread."""
        holding = sorted((s for s in segments if s.start_ms <= at_ms < s.end_ms + reach_ms), key=lambda s: s.start_ms)
        for segment in reversed(holding):
            if (picture := self._keyframe(segment, segment.keyframe_offset(at_ms))) is not None:
                return picture
        return None

    def _keyframe(self, segment: Segment, offset_ms: int) -> bytes | None:
        key = (segment.path, offset_ms)
        with self._lock:
            if (cached := self._cache.get(key)) is not None:
                self._cache.move_to_end(key)
                return cached
        with self._decoders, self._leases.hold([segment.path]):
            picture = _decode_keyframe(self._segments_dir / segment.path, offset_ms)
        if picture is not None:
            with self._lock:
                self._cache[key] = picture
                while len(self._cache) > CACHE_ENTRIES:
                    self._cache.popitem(last=False)
        return picture
