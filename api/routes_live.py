"""POST an SDP offer, get the answer: WebRTC signalling for one camera's live picture."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, Depends, HTTPException, Request
from pydantic import BaseModel

from api.auth import current_user, remote_address, visible_camera
from api.deps import get_station, record_audit
from nvr.station import Station
from storage.accounts import User

router = APIRouter(prefix="/api/cameras")


class Offer(BaseModel):
    sdp: str
    type: Literal["offer"] = "offer"
    quality: Literal["sub", "main"] = "sub"  # sub stream for the grid, main stream for a full-screen tile


class Answer(BaseModel):
    sdp: str
    type: str
    quality: Literal["sub", "main"]  # the stream the picture comes from (the other when the asked one is not H.264)
    transcoded: bool  # the camera sends no H.264: its H.265 is encoded again, at most 720 lines


@router.post("/{name}/live", response_model=Answer)
async def live(name: str, offer: Offer, request: Request, user: User = Depends(current_user),
               station: Station = Depends(get_station)) -> Answer:
    visible_camera(station, user, name)
    if not station.is_running(name):
        raise HTTPException(409, f"camera {name!r} is disabled")
    source = request.app.state.live_sources.pick(station, name, offer.quality)
    if source is None:  # removed while the request ran
        raise HTTPException(404, f"no camera named {name!r}")
    remote = remote_address(request)
    sessions = request.app.state.live

    async def ended() -> None:
        await record_audit(station, "live_stop", username=user.username, camera=name, remote=remote)

    try:
        answer = await sessions.answer(offer.sdp, offer.type, source.hub, ended)
    except ValueError as exc:
        raise HTTPException(400, f"unusable SDP offer: {exc}") from None
    await record_audit(station, "live_start", username=user.username, camera=name, remote=remote,
                       detail=source.quality + (" transcoded" if source.transcoded else ""))
    return Answer(sdp=answer.sdp, type=answer.type, quality=source.quality, transcoded=source.transcoded)
