"""A camera's recordings from the shared catalog, and its clips pulled through from the owning post."""

from __future__ import annotations

import asyncio
from functools import partial
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import StreamingResponse

from api.auth import remote_address
from api.deps import zoned_window
from api.routes_recordings import MAX_LISTING_MS, recordings_answer
from nvr.district.access import DistrictUser, district_of, district_user, visible_place
from nvr.district.relay import relay_clip
from nvr.district.state import District
from nvr.event_clips import MAX_CLIP_MS
from nvr.times import format_instant

router = APIRouter(prefix="/api/stations/{station}/cameras/{name}")


@router.get("/recordings")
def recordings(station: str, name: str, start: str | None = None, end: str | None = None,
               user: DistrictUser = Depends(district_user),
               district: District = Depends(district_of)) -> dict[str, Any]:
    """A post's `recordings` answer, from the catalog: what the post has indexed (its segment being written,
    the last few seconds, is not there yet)."""
    visible_place(district, user, station, name)
    window = zoned_window(district.zone, start, end, max_ms=MAX_LISTING_MS)
    return {"station": station, "camera": name,
            **recordings_answer(partial(district.catalog.spans, station, name),
                                partial(district.catalog.outages, station, name), district.catalog.clock_steps(station),
                                window, district.zone)}


@router.get("/clip.mp4", response_class=StreamingResponse)
async def clip(station: str, name: str, start: str, end: str, request: Request,
               user: DistrictUser = Depends(district_user),
               district: District = Depends(district_of)) -> StreamingResponse:
    """The post's clip of [start, end), streamed through; audited here (who asked) and at the post (the
    district's key asked)."""
    await asyncio.to_thread(visible_place, district, user, station, name)
    window = zoned_window(district.zone, start, end, max_ms=MAX_CLIP_MS, required=True)
    start, end = format_instant(window.start_ms, district.zone), format_instant(window.end_ms, district.zone)
    answer = await relay_clip(district.clients[station], station, name, start, end)
    await asyncio.to_thread(district.audit.record, "clip", username=user.username, camera=f"{station}/{name}",
                            remote=remote_address(request), detail=f"{start} .. {end}")
    return answer
