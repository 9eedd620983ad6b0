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
        source, stream = open_recording(str(path))
        with source:
            assert stream.time_base is not None, "a recorded segment has a time base"
            source.seek(int(Fraction(offset_ms, 1000) / stream.time_base), stream=stream, backward=True,
                        any_frame=False)
            for frame in source.decode(stream):
                height = max(2, round(THUMBNAIL_WIDTH * frame.height / frame.width / 2) * 2)
                small = frame.reformat(width=THUMBNAIL_WIDTH, height=height, format="bgr24").to_ndarray()
                ok, encoded = cv2.imencode(".jpg", small, [cv2.IMWRITE_JPEG_QUALITY, JPEG_QUALITY])
                return encoded.tobytes() if ok else None
    except (FileNotFoundError, DamagedSegment, av.InvalidDataError, av.EOFError):
        pass  # taken by retention meanwhile, damaged (emptied, cut short), or the segment being written has no
        # complete fragment there yet: no picture, as where nothing was recorded
    return None


class Thumbnails:
    def __init__(self, segments_dir: Path, leases: SegmentLeases) -> None:
        self._segments_dir = segments_dir
        self._leases = leases
        self._cache: OrderedDict[tuple[str, int], bytes] = OrderedDict()
        self._lock = threading.Lock()
        self._decoders = threading.BoundedSemaphore(DECODERS)

    def picture(self, segments: list[Segment], at_ms: int) -> bytes | None:
        """The thumbnail of the keyframe at or before `at_ms` in the segment (of `segments`) that holds it;
        None when no segment holds `at_ms`. Blocking: call it from a worker thread."""
        holding = [s for s in segments if s.start_ms <= at_ms < s.end_ms]
        if not holding:
            return None
        segment = max(holding, key=lambda s: s.start_ms)
        key = (segment.path, segment.keyframe_offset(at_ms))
        with self._lock:
            if (cached := self._cache.get(key)) is not None:
                self._cache.move_to_end(key)
                return cached
        with self._decoders, self._leases.hold([segment.path]):
            picture = _decode_keyframe(self._segments_dir / segment.path, key[1])
        if picture is not None:
            with self._lock:
                self._cache[key] = picture
                while len(self._cache) > CACHE_ENTRIES:
                    self._cache.popitem(last=False)
        return picture
