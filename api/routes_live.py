"""POST an SDP offer, get the answer: WebRTC signalling for one camera's live picture."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, Depends, HTTPException, Request
from pydantic import BaseModel

from api.auth import current_user, presented_token, remote_address, visible_camera
from api.connections import Connections, TooMany
from api.deps import get_connections, get_station, record_audit
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
    remote = remote_address(request)

    async def ended() -> None:
        connections.release(held)
        reason = held.closure.reason if held.closure else ""
        await record_audit(station, "live_stop", username=user.username, camera=name, remote=remote, detail=reason)

    try:
        view = await request.app.state.live.answer(offer.sdp, offer.type, source.hub, ended)
    except ValueError as exc:
        raise HTTPException(400, f"unusable SDP offer: {exc}") from None
    await held.on_end(view.close)
    await record_audit(station, "live_start", username=user.username, camera=name, remote=remote,
                       detail=source.quality + (" transcoded" if source.transcoded else ""))
    return Answer(sdp=view.answer.sdp, type=view.answer.type, quality=source.quality, transcoded=source.transcoded)
