"""A camera's live picture as a fragmented MP4 over plain HTTP(S), for machines (the district server relays
it) and for networks where WebRTC's UDP does not pass: the same checks, limits, endings and audit rows as the
WebRTC live view, and the same hub, so no second connection to the camera."""

from __future__ import annotations

import asyncio
from typing import Literal

from fastapi import APIRouter, Depends, Query, Request

from api.auth import current_user
from api.connections import Connections
from api.deps import get_connections, get_station
from api.live_mp4 import LiveResponse, live_mp4
from api.routes_live import open_view
from nvr.station import Station
from storage.accounts import User

router = APIRouter(prefix="/api/cameras")


@router.get("/{name}/live.mp4", response_class=LiveResponse, status_code=200)
async def live_stream(name: str, request: Request, quality: Literal["sub", "main"] = Query("sub"),
                      user: User = Depends(current_user), station: Station = Depends(get_station),
                      connections: Connections = Depends(get_connections)) -> LiveResponse:
    """Fragmented MP4 (H.264 by stream copy; an H.265-only camera through the WebRTC view's shared
    transcoder) from the last keyframe on, until the client leaves, the session or key ends, the grant is
    removed, or no picture came for 10 s; 503 at once for a camera none of whose streams is connected.
    `X-Live-Quality` says which stream it is (the other when the asked one is not H.264), `X-Live-Transcoded`
    whether it was encoded again."""
    opened = open_view(name, quality, request, user, station, connections, refuse_offline=True)
    ended = asyncio.Event()

    async def stop() -> None:
        ended.set()

    await opened.held.on_end(stop)
    source = opened.source
    await opened.started(f"{source.quality}{' transcoded' if source.transcoded else ''} mp4")
    return LiveResponse(live_mp4(source.hub, ended), opened.ended,
                        {"X-Live-Quality": source.quality, "X-Live-Transcoded": str(source.transcoded).lower()})

