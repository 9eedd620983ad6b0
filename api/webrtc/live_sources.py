"""Which stream a live viewer gets: the camera's own H.264 when it has some, else H.265 made H.264."""

from __future__ import annotations

from dataclasses import dataclass

from api.webrtc.transcoder import LiveTranscoder
from ingest.live_hub import LiveHub
from nvr.station import Station

ROLE_OF_QUALITY = {"sub": "detect", "main": "record"}  # the grid's small picture, a full-screen tile's
QUALITY_OF_ROLE = {role: quality for quality, role in ROLE_OF_QUALITY.items()}
PASSED_THROUGH = "h264"  # what WebRTC carries that cameras send


@dataclass(frozen=True)
class LiveSource:
    hub: LiveHub
    quality: str  # the stream the picture comes from: "sub" or "main"
    transcoded: bool


def choose_stream(preferred: str, codecs: dict[str, str | None]) -> tuple[str, bool]:
    """(role, transcode) among the roles of `codecs` (role -> codec, None while unknown): the preferred
    role's H.264, else the other's, else the preferred one transcoded. A codec not known yet (the stream is
    still connecting) is taken as H.264, which most cameras send."""
    roles = sorted(codecs, key=lambda role: role != preferred)
    for role in roles:
        if codecs[role] == PASSED_THROUGH:
            return role, False
    first = roles[0]
    return first, codecs[first] is not None


class LiveSources:
    """Keeps one transcoder per stream that needs one, shared by its viewers."""

    def __init__(self) -> None:
        self._transcoders: dict[tuple[str, str], LiveTranscoder] = {}

    def pick(self, station: Station, camera: str, quality: str) -> LiveSource | None:
        hubs = {role: hub for role in ROLE_OF_QUALITY.values() if (hub := station.hub(camera, role)) is not None}
        if not hubs:
            return None
        report = station.report(camera)
        snapshots = {"record": report.record, "detect": report.detect} if report is not None else {}
        codecs = {role: (snapshot.codec if (snapshot := snapshots.get(role)) is not None else None)
                  for role in hubs}
        role, transcode = choose_stream(ROLE_OF_QUALITY[quality], codecs)
        hub = hubs[role]
        if transcode:
            transcoder = self._transcoders.get((camera, role))
            if transcoder is None or transcoder.source is not hub:  # first viewer, or the camera was replaced
                transcoder = self._transcoders[(camera, role)] = LiveTranscoder(f"{camera}/{role}", hub)
            hub = transcoder.hub
        return LiveSource(hub, QUALITY_OF_ROLE[role], transcode)
