"""POST an SDP offer, get the answer: WebRTC signalling for one camera's live picture (and sound)."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, Depends, HTTPException, Request
from pydantic import BaseModel

from api.auth import current_user, presented_token, remote_address, visible_camera
from api.connections import Connections, TooMany
from api.deps import get_connections, get_station, record_audit
from api.webrtc.audio import live_audio_codec, unavailable_reason
from api.webrtc.live_sources import ROLE_OF_QUALITY
from nvr.station import Station
from storage.accounts import User

router = APIRouter(prefix="/api/cameras")


class Offer(BaseModel):
    sdp: str
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


@router.post("/{name}/live", response_model=Answer, response_model_exclude_none=True)
async def live(name: str, offer: Offer, request: Request, user: User = Depends(current_user),
               station: Station = Depends(get_station), connections: Connections = Depends(get_connections)
               ) -> Answer:
    """The view ends when the viewer leaves, when it has not connected in time, or when the session ends or
    the camera's grant is revoked (api/connections.py); at most `server.max_live_views_per_user` at once."""
    visible_camera(station, user, name)
    if not station.is_running(name):
        raise HTTPException(409, f"camera {name!r} is disabled")
    source = request.app.state.live_sources.pick(station, name, offer.quality)
    if source is None:  # removed while the request ran
        raise HTTPException(404, f"no camera named {name!r}")
    token = presented_token(request)
    assert token is not None  # current_user accepted it
    try:
        held = connections.open("live", user, token, camera=name)
    except TooMany as exc:
        raise HTTPException(429, str(exc)) from None
    role = ROLE_OF_QUALITY[source.quality]
    camera_audio = _audio_codec(station, name, role) if offer.audio else None
    audio = live_audio_codec(camera_audio)  # what the sound goes out as
    remote = remote_address(request)

    async def ended() -> None:
        connections.release(held)
        reason = held.closure.reason if held.closure else ""
        await record_audit(station, "live_stop", username=user.username, camera=name, remote=remote, detail=reason)

    try:
        view = await request.app.state.live.answer(offer.sdp, offer.type, source.hub, ended,
                                                   camera_audio if audio else None, station.hub(name, role))
    except ValueError as exc:
        raise HTTPException(400, f"unusable SDP offer: {exc}") from None
    await held.on_end(view.close)
    await record_audit(station, "live_start", username=user.username, camera=name, remote=remote,
                       detail=source.quality + (" transcoded" if source.transcoded else "")
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
