"""A live hub on a small encoded camera, for tests of what viewers are sent; a viewer's side of WebRTC."""

from __future__ import annotations

import asyncio
from pathlib import Path

import av
from aiortc import MediaStreamTrack, RTCPeerConnection

from ingest.annexb import AnnexBConverter
from ingest.live_hub import LiveHub
from ingest.live_units import EncodedFrame
from tests.support.media import encode_video


def hub_of_camera(tmp_path: Path) -> tuple[LiveHub, list[EncodedFrame]]:
    """A hub, and the frames of a 15 fps camera with a keyframe every 10 frames as the recorder process
    sends them (Annex B, SPS/PPS in front of keyframes)."""
    video = encode_video(tmp_path / "camera.mp4", seconds=2, gop=10)
    with av.open(str(video)) as container:
        stream = container.streams.video[0]
        converter = AnnexBConverter(stream)
        assert stream.time_base is not None
        frames = [EncodedFrame(converter.convert(packet), packet.pts, stream.time_base, bool(packet.is_keyframe))
                  for packet in container.demux(stream) if packet.size and packet.pts is not None]
    return LiveHub(), frames


async def offering_viewer() -> tuple[RTCPeerConnection, asyncio.Future]:
    """A receive-only peer with its offer made; the future resolves with its video track."""
    peer = RTCPeerConnection()
    peer.addTransceiver("video", direction="recvonly")
    arrived: asyncio.Future = asyncio.get_running_loop().create_future()

    def on_track(track: MediaStreamTrack) -> None:
        if not arrived.done():
            arrived.set_result(track)

    peer.on("track", on_track)
    await peer.setLocalDescription(await peer.createOffer())
    return peer, arrived


class SentMessages:
    """Stands in for the recorder's StationOutlet: keeps what a live tap sends."""

    def __init__(self) -> None:
        self.sent: list[object] = []

    def send(self, message: object) -> None:
        self.sent.append(message)
