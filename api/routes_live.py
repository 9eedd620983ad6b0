"""POST an SDP offer, get the answer: WebRTC signalling for one camera's live picture (and sound)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from fastapi import APIRouter, Depends, HTTPException, Request
from pydantic import BaseModel, Field

from api.auth import current_user, presented_token, remote_address, visible_camera
from api.connections import Connection, Connections, TooMany
from api.deps import get_connections, get_station, record_audit
from api.webrtc.audio import live_audio_codec, unavailable_reason
from api.webrtc.live_sources import ROLE_OF_QUALITY, LiveSource
from nvr.station import Station
from nvr.times import format_instant
from storage.accounts import User

router = APIRouter(prefix="/api/cameras")
SDP_MAX = 65_536  # a browser's offer with video and sound is 3-8 kB


class Offer(BaseModel):
    sdp: str = Field(max_length=SDP_MAX)
    type: Literal["offer"] = "offer"
    quality: Literal["sub", "main"] = "sub"  # sub stream for the grid, main stream for a full-screen tile
    audio: bool = False  # the camera's sound too (the offer needs an audio section to receive it)


class Answer(BaseModel):
    """The audio fields are left out when empty: the answer stays a plain RTCSessionDescription for clients
    that never ask for sound."""

    sdp: str
    type: str
    quality: Literal["sub", "main"]  # the stream the picture comes from (the other when the asked one is not H.264)
    transcoded: bool  # the camera sends no H.264: its H.265 is encoded again, at most 720 lines
    audio: str | None = None  # the codec the camera's sound comes in (audio/PCMA, audio/PCMU, audio/opus)
    audio_unavailable: str | None = None  # why there is no sound, when it was asked for


@dataclass
class OpenView:
    """A live view allowed and counted: where its picture comes from, and its place in the registry. Its end is
    audited only if its start was: an offer refused never began a view (found in review: a `live_stop` row with no
    `live_start`)."""

    source: LiveSource
    held: Connection
    station: Station
    connections: Connections
    user: User
    camera: str
    remote: str | None
    began: bool = False

    async def started(self, detail: str) -> None:
        self.began = True
        await record_audit(self.station, "live_start", username=self.user.username, camera=self.camera,
                           remote=self.remote, detail=detail)

    async def ended(self) -> None:
        """The view is over (the viewer left, or the registry ended it): out of the registry, audited."""
        self.connections.release(self.held)
        reason = self.held.closure.reason if self.held.closure else ""
        if not self.began:
            return
        await record_audit(self.station, "live_stop", username=self.user.username, camera=self.camera,
                           remote=self.remote, detail=reason)


def open_view(name: str, quality: str, request: Request, user: User, station: Station,
              connections: Connections, *, refuse_offline: bool = False) -> OpenView:
    """The checks every live view passes: the camera visible to `user` (404), running (409), with
    `refuse_offline` connected (503: a machine's stream would otherwise be a 200 that stays empty until 10 s
    without a picture end it; a browser's tile waits for the camera instead), and within the account's share of
    live views (429)."""
    visible_camera(station, user, name)
    if not station.is_running(name):
        raise HTTPException(409, f"camera {name!r} is disabled")
    if refuse_offline and (since := _offline_since(station, name)) is not None:
        raise HTTPException(503, f"camera {name!r} is offline since {since}: no live picture",
                            headers={"Retry-After": "10"})
    source = request.app.state.live_sources.pick(station, name, quality)
    if source is None:  # removed while the request ran
        raise HTTPException(404, f"no camera named {name!r}")
    token = presented_token(request)
    assert token is not None  # current_user accepted it
    try:
        held = connections.open("live", user, token, camera=name)
    except TooMany as exc:
        raise HTTPException(429, str(exc)) from None
    return OpenView(source, held, station, connections, user, name, remote_address(request))


def _offline_since(station: Station, name: str) -> str | None:
    """When the camera went offline, if none of its streams is connected (one still connecting is not offline)."""
    report = station.report(name)
    if report is None:
        return None
    streams = [report.record] if report.detect is None else [report.record, report.detect]
    if not all(stream.state == "offline" for stream in streams):
        return None
    return format_instant(round(report.record.since * 1000), station.config.zone)


@router.post("/{name}/live", response_model=Answer, response_model_exclude_none=True)
async def live(name: str, offer: Offer, request: Request, user: User = Depends(current_user),
               station: Station = Depends(get_station), connections: Connections = Depends(get_connections)
               ) -> Answer:
    """The view ends when the viewer leaves, when it has not connected in time, or when the session ends or
    the camera's grant is revoked (api/connections.py); at most `server.max_live_views_per_user` at once."""
    opened = open_view(name, offer.quality, request, user, station, connections)
    source = opened.source
    role = ROLE_OF_QUALITY[source.quality]
    camera_audio = _audio_codec(station, name, role) if offer.audio else None
    audio = live_audio_codec(camera_audio)  # what the sound goes out as
    try:
        view = await request.app.state.live.answer(offer.sdp, offer.type, source.hub, opened.ended,
                                                   camera_audio if audio else None, station.hub(name, role))
    except ValueError as exc:
        raise HTTPException(400, f"unusable SDP offer: a browser's WebRTC offer with a video section is expected "
                                 f"({exc})") from None
    await opened.held.on_end(view.close)
    await opened.started(source.quality + (" transcoded" if source.transcoded else "")
                         + (" with sound" if view.heard else ""))
    unavailable = None
    if offer.audio and not view.heard:
        unavailable = unavailable_reason(camera_audio) if audio is None else "the offer has no audio section"
    return Answer(sdp=view.answer.sdp, type=view.answer.type, quality=source.quality, transcoded=source.transcoded,
                  audio=audio if view.heard else None, audio_unavailable=unavailable)


def _audio_codec(station: Station, name: str, role: str) -> str | None:
    """The audio codec of the stream the viewer watches, from its latest status."""
    report = station.report(name)
    if report is None:
        return None
    status = report.detect if role == "detect" and report.detect is not None else report.record
    return status.audio_codec
