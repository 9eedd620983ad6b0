"""A live hub on a small encoded camera, for tests of what viewers are sent."""

from __future__ import annotations

from pathlib import Path

import av

from ingest.live_hub import LiveHub
from tests.support.media import encode_video


def hub_of_camera(tmp_path: Path) -> tuple[LiveHub, list[av.Packet]]:
    """A hub started on a 15 fps camera with a keyframe every 10 frames, and the camera's packets."""
    video = encode_video(tmp_path / "camera.mp4", seconds=2, gop=10)
    with av.open(str(video)) as container:
        stream = container.streams.video[0]
        hub = LiveHub()
        hub.start(stream)
        packets = [packet for packet in container.demux(stream) if packet.size]
    return hub, packets
