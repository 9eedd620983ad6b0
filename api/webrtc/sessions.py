"""Live view over WebRTC: the camera's H.264 passed through to the browser, never decoded or re-encoded."""

from __future__ import annotations

import asyncio
import logging
import math
from collections.abc import Awaitable, Callable

from aiortc import MediaStreamTrack, RTCPeerConnection, RTCRtpSender, RTCSessionDescription
from aiortc.mediastreams import MediaStreamError

from api.webrtc.sender import PassthroughSender
from ingest.live_hub import LiveFrame, LiveHub, LiveViewer

log = logging.getLogger(__name__)
CATCH_UP_FPS = 60  # frames a second while a viewer has a backlog (the camera's own rate is 15-30)


class PassthroughTrack(MediaStreamTrack):
    """A video track whose frames are the camera's encoded frames, already split into RTP payloads."""

    kind = "video"

    def __init__(self, hub: LiveHub) -> None:
        super().__init__()
        self._hub = hub
        self._loop: asyncio.AbstractEventLoop = asyncio.get_running_loop()  # also pyee's (never None here)
        self._viewer = LiveViewer(self._loop)
        self._sent = -math.inf  # loop time of the last frame handed to the sender
        hub.subscribe(self._viewer)

    async def recv(self) -> LiveFrame:  # type: ignore[override]
        """The next frame; a backlog (a new viewer's GOP, frames held up by a stall) goes out at most
        CATCH_UP_FPS, not in one burst: up to 2 s of 1080p at once overflowed the receiving socket, lost
        packets too old to be resent, and the picture waited for the next keyframe."""
        if self.readyState != "live":
            raise MediaStreamError
        if not self._viewer.queue.empty():
            wait = self._sent + 1 / CATCH_UP_FPS - self._loop.time()
            if wait > 0:
                await asyncio.sleep(wait)
        frame = await self._viewer.queue.get()
        self._sent = self._loop.time()
        return frame

    def stop(self) -> None:
        self._hub.unsubscribe(self._viewer)
        super().stop()


class LiveSessions:
    """Open peer connections; each is closed and forgotten when its viewer goes away."""

    def __init__(self) -> None:
        self._peers: set[RTCPeerConnection] = set()

    @property
    def count(self) -> int:
        return len(self._peers)

    async def answer(self, offer_sdp: str, offer_type: str, hub: LiveHub,
                     on_end: Callable[[], Awaitable[None]]) -> RTCSessionDescription:
        peer = RTCPeerConnection()
        self._peers.add(peer)
        track = PassthroughTrack(hub)
        ended = False

        async def end() -> None:
            nonlocal ended
            if ended:
                return
            ended = True
            track.stop()
            self._peers.discard(peer)
            await peer.close()
            await on_end()

        @peer.on("connectionstatechange")
        async def _state() -> None:
            if peer.connectionState in ("failed", "closed", "disconnected"):
                await end()

        try:
            sender = peer.addTrack(track)
            PassthroughSender.adopt(sender)
            transceiver = next(t for t in peer.getTransceivers() if t.sender is sender)
            # must be set before the offer is applied, or aiortc answers VP8 and the browser shows nothing
            h264 = [c for c in RTCRtpSender.getCapabilities("video").codecs if c.mimeType.lower() == "video/h264"]
            transceiver.setCodecPreferences(h264)
            await peer.setRemoteDescription(RTCSessionDescription(sdp=offer_sdp, type=offer_type))
            await peer.setLocalDescription(await peer.createAnswer())
        except Exception:
            await end()
            raise
        return peer.localDescription

    async def close_all(self) -> None:
        await asyncio.gather(*(peer.close() for peer in list(self._peers)), return_exceptions=True)
        self._peers.clear()
