"""Live audio: the camera's G.711 passed through to the listener as it comes (PCMA and PCMU are WebRTC
codecs); AAC, which WebRTC lacks, converted to Opus for each listener while it listens (api/webrtc/opus.py).
aiortc's own sender packs the packets this track returns, one RTP packet each.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from fractions import Fraction

import av
from aiortc import MediaStreamTrack
from aiortc.mediastreams import MediaStreamError

from api.webrtc.opus import AacToOpus
from ingest.live_hub import LiveHub
from ingest.live_units import AudioChunk

LIVE_CODECS = {"pcm_alaw": "audio/PCMA", "pcm_mulaw": "audio/PCMU", "aac": "audio/opus"}  # the camera's -> WebRTC's
PACKET_SECONDS = Fraction(1, 50)  # 20 ms, WebRTC's usual packet; cameras send G.711 20 to 128 ms at a time
LISTENER_QUEUE = 100  # packets (2 s): a listener that falls further behind loses audio, not the camera
Conversion = Callable[[AudioChunk], list[av.Packet]]


def live_audio_codec(camera_codec: str | None) -> str | None:
    """The WebRTC codec (mime type) a camera's audio goes out as, or None when it cannot go."""
    return LIVE_CODECS.get(camera_codec or "")


def unavailable_reason(camera_codec: str | None) -> str:
    if camera_codec is None:
        return "the camera sends no audio"
    return f"the camera's audio ({camera_codec}) cannot be sent over WebRTC; its recordings keep it"


def g711_packets(chunk: AudioChunk) -> list[av.Packet]:
    """The camera's packet cut into PACKET_SECONDS pieces: G.711 has one byte per sample, any cut is a packet."""
    step = int(PACKET_SECONDS / chunk.time_base)  # samples: the time base is the sample rate's
    pieces = []
    for offset in range(0, len(chunk.data), step):
        piece = av.Packet(chunk.data[offset:offset + step])
        piece.pts, piece.time_base = chunk.pts + offset, chunk.time_base
        pieces.append(piece)
    return pieces


class AudioListener:
    """One listener's packets, on its event loop."""

    def __init__(self, loop: asyncio.AbstractEventLoop, convert: Conversion) -> None:
        self.loop = loop
        self._convert = convert
        self.queue: asyncio.Queue[av.Packet] = asyncio.Queue(LISTENER_QUEUE)

    def offer(self, chunk: AudioChunk) -> None:
        """Runs on the listener's loop."""
        for packet in self._convert(chunk):
            try:
                self.queue.put_nowait(packet)
            except asyncio.QueueFull:
                return


class CameraAudioTrack(MediaStreamTrack):
    """An audio track of the camera's sound, in the codec `live_audio_codec` chose for it."""

    kind = "audio"

    def __init__(self, hub: LiveHub, camera_codec: str) -> None:
        super().__init__()
        self._hub = hub
        convert = AacToOpus().convert if LIVE_CODECS[camera_codec] == "audio/opus" else g711_packets
        self._listener = AudioListener(asyncio.get_running_loop(), convert)
        hub.listen(self._listener)

    async def recv(self) -> av.Packet:
        if self.readyState != "live":
            raise MediaStreamError
        return await self._listener.queue.get()

    def stop(self) -> None:
        self._hub.stop_listening(self._listener)
        super().stop()
