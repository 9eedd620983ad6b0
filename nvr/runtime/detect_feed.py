"""Recorder side of detection: each decoded detect-stream frame reduced to the bank's work picture and
put in the camera's shared-memory slot; the newest full frame is kept for event snapshots."""

from __future__ import annotations

import threading

import av
import cv2
import numpy as np

from detect.frames import reduce_luma, sample_chroma
from ingest.frame_tap import Chroma
from nvr.runtime.work_pictures import WorkPictureTable

SNAPSHOT_QUALITY = 85


def encode_snapshot(frame: av.VideoFrame) -> bytes | None:
    ok, encoded = cv2.imencode(".jpg", frame.to_ndarray(format="bgr24"), [cv2.IMWRITE_JPEG_QUALITY, SNAPSHOT_QUALITY])
    return encoded.tobytes() if ok else None


class DetectFeed:
    """The FrameTap callback of one camera."""

    def __init__(self, table: WorkPictureTable, slot: int, work_size: tuple[int, int]) -> None:
        self._slot = table.writer(slot)
        self._work_size = work_size
        self._latest: av.VideoFrame | None = None
        self._lock = threading.Lock()

    def __call__(self, y: np.ndarray, chroma: Chroma, t: float, frame: av.VideoFrame) -> None:
        slot = self._slot
        slot.begin()
        reduce_luma(y, self._work_size, out=slot.luma)
        sample_chroma(chroma, slot.chroma)
        slot.commit(t, has_chroma=True)
        with self._lock:
            self._latest = frame

    def snapshot(self) -> bytes | None:
        """The newest frame as a JPEG (None before the first)."""
        with self._lock:
            frame = self._latest
        return encode_snapshot(frame) if frame is not None else None
