"""Decoding a stream for detection: the Y plane as a NumPy view (no colour conversion) and a coarse look
at chroma, handed to a callback from the ingest thread. See DESIGN.md: converting to gray costs more
than decoding; the planes themselves are free."""

from __future__ import annotations

from collections.abc import Callable

import av
import av.stream
import av.video.plane
import numpy as np

from detect.settings import CameraDetectSettings
from ingest.clock import Stamp
from ingest.frame_picker import FramePicker

CHROMA_STEP = 4  # every 4th chroma sample each way: enough to tell colour from infrared
PLANAR_YUV = {"yuv420p", "yuvj420p", "yuv422p", "yuvj422p", "yuv444p", "yuvj444p"}

Chroma = tuple[np.ndarray, np.ndarray]
FrameCallback = Callable[[np.ndarray, Chroma, float, av.VideoFrame], None]


def plane_view(plane: av.video.plane.VideoPlane, step: int = 1) -> np.ndarray:
    """Every `step`-th sample of a plane as a 2-D uint8 view of the frame's own buffer (valid while the frame
    lives)."""
    rows = np.frombuffer(memoryview(plane), np.uint8).reshape(-1, plane.line_size)
    return rows[: plane.height: step, : plane.width: step]


def detection_planes(frame: av.VideoFrame) -> tuple[np.ndarray, Chroma]:
    """What detection gets of a planar YUV frame: the Y plane and every CHROMA_STEP-th chroma sample, as views."""
    y, u, v = frame.planes[:3]  # `planes` makes new plane objects at each call: once per frame
    return plane_view(y), (plane_view(u, CHROMA_STEP), plane_view(v, CHROMA_STEP))


class FrameTap:
    """A PacketSink that decodes (all frames, or only keyframes) and calls `on_frame` for all of them, or for
    about `max_fps` a second (`ingest.frame_picker`)."""

    def __init__(self, on_frame: FrameCallback, *, max_fps: float | None = None, keyframes_only: bool = False) -> None:
        self._on_frame = on_frame
        self._picker = FramePicker(max_fps) if max_fps else None
        self._keyframes_only = keyframes_only
        self._decoder: av.VideoCodecContext | None = None

    def start(self, stream: av.stream.Stream) -> None:
        decoder = av.CodecContext.create(stream.codec_context.name, "r")
        assert isinstance(decoder, av.VideoCodecContext), "a video stream's decoder"
        decoder.extradata = stream.codec_context.extradata
        decoder.thread_type = "NONE"  # frame threading would delay every frame by a thread's worth
        self._decoder = decoder

    def packet(self, packet: av.Packet, stamp: Stamp) -> None:
        if self._decoder is None or (self._keyframes_only and not packet.is_keyframe):
            return
        try:
            frames = self._decoder.decode(packet)
        except av.InvalidDataError:
            return  # a damaged packet: the next keyframe recovers
        for decoded in frames:
            if self._picker is not None and not self._picker.take(stamp.wall):
                continue
            frame = decoded if decoded.format.name in PLANAR_YUV else decoded.reformat(format="yuv420p")
            y, chroma = detection_planes(frame)
            self._on_frame(y, chroma, stamp.wall, frame)

    def stop(self, reason: str) -> None:
        self._decoder = None


def detection_tap(on_frame: FrameCallback, settings: CameraDetectSettings) -> FrameTap:
    """The tap that decodes a camera's detect stream for its detection, as its settings say: about
    `analysed_fps` frames a second, or keyframes only. The recorders and `nvr analyze` both make theirs here."""
    return FrameTap(on_frame, max_fps=settings.analysed_fps, keyframes_only=settings.keyframes_only)
