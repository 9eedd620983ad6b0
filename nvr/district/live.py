"""Any camera's live picture at the district, relayed from its post (nvr/district/live_relay.py): the post's
`live.mp4` through the district, so a browser that cannot reach the post (only the district can, over its
HTTPS port) still sees it."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator
from typing import Literal

from fastapi import APIRouter, Depends, Query, Request

from api.auth import presented_token, remote_address
from api.live_mp4 import LiveResponse
from nvr.district.access import DistrictUser, district_of, district_user, visible_place
from nvr.district.live_relay import LiveRelays
from nvr.district.state import District

router = APIRouter(prefix="/api/stations/{station}/cameras/{name}")
RECHECK_SECONDS = 5.0  # a viewer's session and grant are read again this often while they watch


def relays_of(request: Request) -> LiveRelays:
    """The district's relays, made with its first live viewer."""
    state = request.app.state
    if not hasattr(state, "live_relays"):
        state.live_relays = LiveRelays()
    relays: LiveRelays = state.live_relays
    return relays


def _ended_why(district: District, token: str, station: str, name: str) -> str | None:
    """Why the viewer may no longer watch (logged out, key revoked, grant removed), or None."""
    user = district.accounts.user_for_token(token)
    if user is None:
        return "the session has ended"
    if user.role not in ("admin", "operator") and (station, name) not in district.catalog.grants(user.id, [station]):
        return "this camera is no longer granted"
    return None


@router.get("/live.mp4", response_class=LiveResponse, status_code=200)
async def live(station: str, name: str, request: Request, quality: Literal["sub", "main"] = Query("sub"),
               user: DistrictUser = Depends(district_user), district: District = Depends(district_of)
               ) -> LiveResponse:
    """The post's live MP4 of the camera, one upstream per camera and quality shared by every district viewer;
    502 when the post cannot be reached. Ends when the viewer's session ends or the grant is removed (checked
    every 5 s), or when the post's stream ends."""
    await asyncio.to_thread(visible_place, district, user, station, name)
    upstream, viewer = await relays_of(request).watch(district.clients[station], (station, name, quality))
    camera, remote = f"{station}/{name}", remote_address(request)
    token = presented_token(request)
    assert token is not None  # district_user accepted it
    why: list[str] = []
    await asyncio.to_thread(district.audit.record, "live_start", username=user.username, camera=camera,
                            remote=remote, detail=upstream.headers.get("x-live-quality", quality))

    async def body() -> AsyncGenerator[bytes, None]:
        loop = asyncio.get_running_loop()
        check_at = loop.time() + RECHECK_SECONDS
        while True:
            try:
                chunk = await asyncio.wait_for(viewer.queue.get(), RECHECK_SECONDS)
            except TimeoutError:
                chunk = b""  # nothing came: the check below is due anyway
            if chunk is None:
                return  # the upstream ended
            if chunk:
                yield chunk
            if loop.time() >= check_at:
                check_at = loop.time() + RECHECK_SECONDS
                reason = await asyncio.to_thread(_ended_why, district, token, station, name)
                if reason is not None:
                    why.append(reason)
                    return

    async def ended() -> None:
        upstream.leave(viewer)
        await asyncio.to_thread(district.audit.record, "live_stop", username=user.username, camera=camera,
                                remote=remote, detail=why[0] if why else "")

    return LiveResponse(body(), ended, dict(upstream.headers))

