"""Live view over WebRTC: the camera's H.264 passed through to the browser, never decoded or re-encoded."""

from __future__ import annotations

import asyncio
import logging
import math
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from aiortc import MediaStreamTrack, RTCPeerConnection, RTCRtpSender, RTCRtpTransceiver, RTCSessionDescription
from aiortc.mediastreams import MediaStreamError

from api.webrtc.audio import CameraAudioTrack, live_audio_codec
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


@dataclass(frozen=True)
class LiveView:
    answer: RTCSessionDescription
    close: Callable[[], Awaitable[None]]  # ends the view (peer connection closed, `on_end` called) at once
    heard: bool  # the answer carries the camera's sound


def _transceiver(peer: RTCPeerConnection, track: MediaStreamTrack, mime_type: str) -> RTCRtpTransceiver:
    """Add `track`, sent in `mime_type` only. Set before the offer is applied: afterwards aiortc answers
    with its own choice (VP8 for video) and the browser shows nothing."""
    sender = peer.addTrack(track)
    transceiver = next(t for t in peer.getTransceivers() if t.sender is sender)
    transceiver.setCodecPreferences([c for c in RTCRtpSender.getCapabilities(track.kind).codecs
                                     if c.mimeType.lower() == mime_type.lower()])
    return transceiver




class LiveSessions:
    """Open peer connections; each is closed and forgotten when its viewer goes away, or when it has not
    connected `connect_timeout` seconds after its answer (a viewer that never came, or an offer sent for
    nothing but to hold the station's sockets)."""

    def __init__(self, connect_timeout: float) -> None:
        self._open: set[Callable[[], Awaitable[None]]] = set()  # how to end each open view
        self._connect_timeout = connect_timeout
        self._expiring: set[asyncio.Task[None]] = set()  # held: the loop keeps only weak references to tasks

    @property
    def count(self) -> int:
        return len(self._open)

    async def answer(self, offer_sdp: str, offer_type: str, hub: LiveHub, on_end: Callable[[], Awaitable[None]],
                     audio: str | None = None, sound_from: LiveHub | None = None) -> LiveView:
        """The answer, and whether it carries the camera's sound: `audio` is the camera's audio codec when the
        viewer asked for the sound and it can go live (see live_audio_codec), taken from `sound_from` (the
        camera's own stream when `hub` is a transcoder's; default `hub`); the offer must have an audio section."""
        peer = RTCPeerConnection()
        picture = PassthroughTrack(hub)
        sound = CameraAudioTrack(sound_from or hub, audio) if audio is not None else None
        tracks: list[MediaStreamTrack] = [picture] if sound is None else [picture, sound]
        ended = False

        async def end() -> None:
            nonlocal ended
            if ended:
                return
            ended = True
            unconnected.cancel()
            for track in tracks:
                track.stop()
            self._open.discard(end)
            await peer.close()
            await on_end()

        def expire() -> None:
            if peer.connectionState != "connected":
                task = asyncio.create_task(end())
                self._expiring.add(task)
                task.add_done_callback(self._expiring.discard)

        self._open.add(end)
        unconnected = asyncio.get_running_loop().call_later(self._connect_timeout, expire)

        @peer.on("connectionstatechange")
        async def _state() -> None:
            if peer.connectionState in ("failed", "closed", "disconnected"):
                await end()

        try:
            PassthroughSender.adopt(_transceiver(peer, picture, "video/h264").sender)
            mime_type = live_audio_codec(audio)
            hearing = _transceiver(peer, sound, mime_type) if sound is not None and mime_type is not None else None
            await _answer(peer, RTCSessionDescription(sdp=offer_sdp, type=offer_type))
        except Exception:
            await end()
            raise
        heard = hearing is not None and hearing.mid is not None  # matched with the offer's audio section
        if sound is not None and not heard:
            sound.stop()
        return LiveView(peer.localDescription, end, heard)

    async def close_all(self) -> None:
        await asyncio.gather(*(end() for end in list(self._open)), return_exceptions=True)


async def _answer(peer: RTCPeerConnection, offer: RTCSessionDescription) -> None:
    """Take the viewer's offer and make the answer. An offer aiortc cannot use is a ValueError whatever aiortc
    raised: it refuses some malformed lines with ValueError, others with an AssertionError (an m= line without a
    port) or its own OperationError (a candidate line without its fields)."""
    try:
        await peer.setRemoteDescription(offer)
        await peer.setLocalDescription(await peer.createAnswer())
    except ValueError:
        raise
    except Exception as exc:
        raise ValueError(str(exc) or f"refused ({type(exc).__name__})") from exc
