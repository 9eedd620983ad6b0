"""Live view over WebRTC: the camera's H.264 passed through to the browser, never decoded or re-encoded."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

import av
from aiortc import MediaStreamTrack, RTCPeerConnection, RTCRtpSender, RTCSessionDescription
from aiortc.mediastreams import MediaStreamError

from ingest.live_hub import LiveHub, LiveViewer

log = logging.getLogger(__name__)


class PassthroughTrack(MediaStreamTrack):
    """A video track whose frames are the camera's encoded packets (aiortc packetizes them as they are)."""

    kind = "video"

    def __init__(self, hub: LiveHub) -> None:
        super().__init__()
        self._hub = hub
        self._viewer = LiveViewer(asyncio.get_running_loop())
        hub.subscribe(self._viewer)

    async def recv(self) -> av.Packet:  # type: ignore[override]
        if self.readyState != "live":
            raise MediaStreamError
        return await self._viewer.queue.get()

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
