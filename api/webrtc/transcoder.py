"""Live view of a camera that sends no H.264 (an H.265 main stream and no H.264 sub stream): its frames
decoded and encoded again as H.264, which every browser plays over WebRTC.

One transcoder per stream, shared by all its viewers, working only while someone watches: the first
viewer of its output hub starts it, the last one leaving stops it. It runs in a thread of its own, whose
decoding and encoding release the GIL; the picture is scaled down to at most 720 lines to bound the cost
(ingest.browser_h264). Frames reach it from the source hub like any viewer's; when it falls behind it drops
frames up to the source's next keyframe, as a slow viewer does.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import queue
import threading
from fractions import Fraction

import av
import av.video.codeccontext
from av.video.frame import PictureType

from ingest.browser_h264 import encoder_options, scaled_size
from ingest.live_hub import FrameListener, LiveFrame, LiveHub
from ingest.live_units import EncodedFrame

log = logging.getLogger(__name__)
KEYFRAME_SECONDS = 1.0  # a new viewer of the output waits at most this long for a picture (whatever the fps)
QUEUE_FRAMES = 30
TIME_BASE = Fraction(1, 90_000)


class _SourceListener(FrameListener):
    """Receives the source hub's frames on the event loop and queues them for the transcoding thread."""

    def __init__(self, loop: asyncio.AbstractEventLoop, frames: queue.Queue[LiveFrame | None]) -> None:
        super().__init__(loop)
        self._frames = frames

    def _put(self, frame: LiveFrame) -> bool:
        try:
            self._frames.put_nowait(frame)
        except queue.Full:
            return False
        return True


class LiveTranscoder:
    """`hub` is what viewers subscribe to; it is fed from `source` while it has viewers."""

    def __init__(self, name: str, source: LiveHub) -> None:
        self.name = name
        self.hub = LiveHub(on_watch=self._watch)
        self.source = source
        self._lock = threading.Lock()
        self._running: tuple[threading.Thread, _SourceListener, queue.Queue[LiveFrame | None]] | None = None

    @property
    def backlog(self) -> int:
        """Frames waiting for the transcoding thread."""
        running = self._running
        return running[2].qsize() if running is not None else 0

    def _watch(self, on: bool, _sound: bool) -> None:
        """Called by the output hub on its first viewer (on the event loop) and after its last; its sound, when
        a viewer wants it, comes from the camera's own stream (api/webrtc/sessions.py)."""
        with self._lock:
            if on and self._running is None:
                frames: queue.Queue[LiveFrame | None] = queue.Queue(QUEUE_FRAMES)
                listener = _SourceListener(asyncio.get_running_loop(), frames)
                thread = threading.Thread(target=self._run, args=(frames,), name=f"transcode-{self.name}",
                                          daemon=True)
                self._running = (thread, listener, frames)
                thread.start()
                self.source.subscribe(listener)
            elif not on and self._running is not None:
                thread, listener, frames = self._running
                self._running = None
                self.source.unsubscribe(listener)
                _put_last(frames)

    def _run(self, frames: queue.Queue[LiveFrame | None]) -> None:
        decoder: av.video.codeccontext.VideoCodecContext | None = None
        encoder: av.video.codeccontext.VideoCodecContext | None = None
        last_keyframe = -KEYFRAME_SECONDS
        while (frame := frames.get()) is not None:
            try:
                decoder = decoder or _decoder()
                for picture in decoder.decode(frame.packet):
                    if encoder is None or (encoder.width, encoder.height) != scaled_size(picture.width,
                                                                                        picture.height):
                        encoder = _encoder(picture.width, picture.height)
                    seconds = float((picture.pts or 0) * (frame.packet.time_base or TIME_BASE))
                    if not seconds - KEYFRAME_SECONDS < last_keyframe <= seconds:  # due, or time went back
                        last_keyframe = seconds
                        picture.pict_type = PictureType.I
                    self._encode(encoder, picture, seconds)
            except av.FFmpegError as exc:  # a damaged frame: start again at the next keyframe
                log.warning("live transcoding of %s: %s", self.name, exc)
                decoder = encoder = None
                self.hub.reset()
        log.info("live transcoding of %s stopped", self.name)

    def _encode(self, encoder: av.video.codeccontext.VideoCodecContext, picture: av.VideoFrame,
                seconds: float) -> None:
        scaled = picture.reformat(width=encoder.width, height=encoder.height, format="yuv420p")
        scaled.pict_type = picture.pict_type
        scaled.pts = round(seconds / TIME_BASE)
        scaled.time_base = TIME_BASE
        for packet in encoder.encode(scaled):
            self.hub.publish(EncodedFrame(bytes(packet), int(packet.pts or 0), TIME_BASE,
                                          bool(packet.is_keyframe)))


def _put_last(frames: queue.Queue[LiveFrame | None]) -> None:
    """Tell the thread to end, making room for the word if its queue is full."""
    while True:
        try:
            frames.put_nowait(None)
            return
        except queue.Full:
            with contextlib.suppress(queue.Empty):
                frames.get_nowait()


def _decoder() -> av.video.codeccontext.VideoCodecContext:
    """An H.265 decoder; the parameter sets come in-band in front of every keyframe (ingest.annexb)."""
    decoder = av.CodecContext.create("hevc", "r")
    assert isinstance(decoder, av.video.codeccontext.VideoCodecContext)
    decoder.thread_type = "SLICE"  # frame threading would hold frames back
    return decoder


def _encoder(width: int, height: int) -> av.video.codeccontext.VideoCodecContext:
    encoder = av.CodecContext.create("libx264", "w")
    assert isinstance(encoder, av.video.codeccontext.VideoCodecContext)
    encoder.width, encoder.height = scaled_size(width, height)
    encoder.pix_fmt = "yuv420p"
    encoder.time_base = TIME_BASE
    encoder.options = encoder_options(None)  # keyframes are asked for by time (pict_type), not by frame count
    encoder.open()
    return encoder
