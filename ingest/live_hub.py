"""The live hub of one stream: the current GOP for instant starts, fan-out to every viewer, and the camera's
audio to the viewers who listen.

Viewers live on the asyncio loop; the hub is fed by the thread that receives the recorder process's
frames and hands them over with `call_soon_threadsafe`. A viewer that falls behind loses frames up to
the next keyframe instead of slowing the camera or growing memory.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from functools import cached_property

import av
from aiortc.codecs.h264 import H264Encoder

from ingest.fanout import Fanout, LoopListener
from ingest.live_units import AudioChunk, EncodedFrame

VIEWER_QUEUE = 120  # frames (~8 s at 15 fps)
_PACKETIZER = H264Encoder()  # only its `pack` is used, which keeps no state


class LiveFrame:
    """One H.264 access unit in Annex B, SPS/PPS on keyframes. Split into RTP payloads once for every
    viewer, and only when someone watches."""

    def __init__(self, packet: av.Packet) -> None:
        self.packet = packet
        self.is_keyframe = packet.is_keyframe

    @cached_property
    def rtp(self) -> tuple[list[bytes], int]:
        """The RTP payloads (FU-A, STAP-A) and the 90 kHz timestamp."""
        return _PACKETIZER.pack(self.packet)


class FrameListener:
    """Takes a hub's frames on its event loop; once it had to drop one, it waits for the next keyframe."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop
        self._resync = False  # dropped something: wait for a keyframe

    def offer(self, frame: LiveFrame) -> None:
        """Runs on the listener's loop."""
        if self._resync and not frame.is_keyframe:
            return
        self._resync = not self._put(frame)

    def _put(self, frame: LiveFrame) -> bool:
        """Keep the frame if there is room; False when it had to be dropped."""
        raise NotImplementedError


class LiveViewer(FrameListener):
    """One viewer's frame queue, on its event loop."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        super().__init__(loop)
        self.queue: asyncio.Queue[LiveFrame] = asyncio.Queue(VIEWER_QUEUE)

    def _put(self, frame: LiveFrame) -> bool:
        try:
            self.queue.put_nowait(frame)
        except asyncio.QueueFull:
            return False
        return True


class LiveHub:
    """One stream's viewers and listeners in the station process. `on_watch(pictures, sound)` is called when
    the first viewer comes or the last goes, and the same for listeners, so the recorder sends frames only
    while watched and sound only while someone listens (a grid of tiles wants no sound)."""

    def __init__(self, on_watch: Callable[[bool, bool], None] = lambda _pictures, _sound: None) -> None:
        self._lock = threading.Lock()
        self._gop: list[LiveFrame] = []
        self._viewers: Fanout[LiveFrame] = Fanout()
        self._listeners: Fanout[AudioChunk] = Fanout()
        self._on_watch = on_watch
        self._wanted = (False, False)  # what `on_watch` was last told

    @property
    def viewer_count(self) -> int:
        return self._viewers.count

    @property
    def listener_count(self) -> int:
        return self._listeners.count

    def subscribe(self, viewer: FrameListener) -> None:
        """Add a viewer; it gets the current GOP at once, so the picture starts at the last keyframe."""
        with self._lock:
            self._viewers.subscribe(viewer, backlog=self._gop)
        self._tell()

    def unsubscribe(self, viewer: FrameListener) -> None:
        with self._lock:
            self._viewers.unsubscribe(viewer)
            if self._viewers.count == 0:
                self._gop.clear()  # frames stop coming: what is kept would be stale for the next viewer
        self._tell()

    def listen(self, listener: LoopListener[AudioChunk]) -> None:
        self._listeners.subscribe(listener)
        self._tell()

    def stop_listening(self, listener: LoopListener[AudioChunk]) -> None:
        self._listeners.unsubscribe(listener)
        self._tell()

    def _tell(self) -> None:
        with self._lock:
            wanted = (self._viewers.count > 0, self._listeners.count > 0)
            changed, self._wanted = wanted != self._wanted, wanted
        if changed:
            self._on_watch(*wanted)

    def publish(self, encoded: EncodedFrame) -> None:
        if not encoded.keyframe and not self._gop:
            return  # nothing decodable before the first keyframe
        packet = av.Packet(encoded.data)
        packet.pts = encoded.pts
        packet.time_base = encoded.time_base
        packet.is_keyframe = encoded.keyframe
        frame = LiveFrame(packet)
        with self._lock:
            if frame.is_keyframe:
                self._gop.clear()
            self._gop.append(frame)
            self._viewers.publish(frame)

    def publish_audio(self, chunk: AudioChunk) -> None:
        self._listeners.publish(chunk)

    def reset(self) -> None:
        """The stream restarted (reconnect, recorder restart): wait for its next keyframe."""
        with self._lock:
            self._gop.clear()
