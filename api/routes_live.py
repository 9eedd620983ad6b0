"""POST an SDP offer, get the answer: WebRTC signalling for one camera's live picture (and sound)."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, Depends, HTTPException, Request
from pydantic import BaseModel

from api.auth import current_user, remote_address, visible_camera
from api.deps import get_station, record_audit
from api.webrtc.audio import live_audio_codec, unavailable_reason
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
    audio: str | None = None  # the codec the camera's sound comes in (audio/PCMA, audio/PCMU, audio/opus)
    audio_unavailable: str | None = None  # why there is no sound, when it was asked for


@router.post("/{name}/live", response_model=Answer, response_model_exclude_none=True)
async def live(name: str, offer: Offer, request: Request, user: User = Depends(current_user),
               station: Station = Depends(get_station)) -> Answer:
    visible_camera(station, user, name)
    if not station.is_running(name):
        raise HTTPException(409, f"camera {name!r} is disabled")
    role = "detect" if offer.quality == "sub" and station.hub(name, "detect") is not None else "record"
    hub = station.hub(name, role)
    assert hub is not None
    camera_audio = _audio_codec(station, name, role) if offer.audio else None
    audio = live_audio_codec(camera_audio)  # what the sound goes out as
    remote = remote_address(request)
    sessions = request.app.state.live

    async def ended() -> None:
        await record_audit(station, "live_stop", username=user.username, camera=name, remote=remote)

    try:
        answer, heard = await sessions.answer(offer.sdp, offer.type, hub, ended, camera_audio if audio else None)
    except ValueError as exc:
        raise HTTPException(400, f"unusable SDP offer: {exc}") from None
    await record_audit(station, "live_start", username=user.username, camera=name, remote=remote,
                       detail=offer.quality + (" with sound" if heard else ""))
    unavailable = None
    if offer.audio and not heard:
        unavailable = unavailable_reason(camera_audio) if audio is None else "the offer has no audio section"
    return Answer(sdp=answer.sdp, type=answer.type, audio=audio if heard else None, audio_unavailable=unavailable)


def _audio_codec(station: Station, name: str, role: str) -> str | None:
    """The audio codec of the stream the viewer watches, from its latest status."""
    report = station.report(name)
    if report is None:
        return None
    status = report.detect if role == "detect" and report.detect is not None else report.record
    return status.audio_codec
