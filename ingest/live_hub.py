"""The live hub of one stream: the current GOP for instant starts, and fan-out to every viewer.

Viewers live on the asyncio loop; the hub is fed by the ingest thread and hands frames over with
`call_soon_threadsafe`. A viewer that falls behind loses frames up to the next keyframe instead of
slowing the camera or growing memory.
"""

from __future__ import annotations

import asyncio
import threading
from fractions import Fraction
from functools import cached_property

import av
import av.stream
from aiortc.codecs.h264 import H264Encoder

from ingest.annexb import AnnexBConverter
from ingest.clock import Stamp
from ingest.fanout import Fanout

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


class LiveViewer:
    """One viewer's frame queue, on its event loop."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop
        self.queue: asyncio.Queue[LiveFrame] = asyncio.Queue(VIEWER_QUEUE)
        self._resync = False  # dropped something: wait for a keyframe

    def offer(self, frame: LiveFrame) -> None:
        """Runs on the viewer's loop."""
        if self._resync and not frame.is_keyframe:
            return
        try:
            self.queue.put_nowait(frame)
            self._resync = False
        except asyncio.QueueFull:
            self._resync = True


class LiveHub:
    """A PacketSink; packets are copied into LiveFrames so the recorder may reuse the originals."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._gop: list[LiveFrame] = []
        self._viewers: Fanout[LiveFrame] = Fanout()
        self._converter: AnnexBConverter | None = None
        self._time_base: Fraction | None = None

    @property
    def viewer_count(self) -> int:
        return self._viewers.count

    def subscribe(self, viewer: LiveViewer) -> None:
        """Add a viewer; it gets the current GOP at once, so the picture starts at the last keyframe."""
        with self._lock:
            self._viewers.subscribe(viewer, backlog=self._gop)

    def unsubscribe(self, viewer: LiveViewer) -> None:
        self._viewers.unsubscribe(viewer)

    def start(self, stream: av.stream.Stream) -> None:
        with self._lock:
            self._converter = AnnexBConverter(stream)
            self._time_base = stream.time_base
            self._gop.clear()

    def packet(self, packet: av.Packet, stamp: Stamp) -> None:
        if self._converter is None:
            return
        if not packet.is_keyframe and not self._gop:
            return  # nothing decodable before the first keyframe
        copy = av.Packet(self._converter.convert(packet))
        copy.pts = packet.pts if packet.pts is not None else packet.dts
        copy.time_base = self._time_base
        copy.is_keyframe = packet.is_keyframe
        frame = LiveFrame(copy)
        with self._lock:
            if frame.is_keyframe:
                self._gop.clear()
            self._gop.append(frame)
            self._viewers.publish(frame)

    def stop(self, reason: str) -> None:
        with self._lock:
            self._converter = None
            self._gop.clear()
