"""What the player and the timeline need besides clips: keyframe times and keyframe thumbnails of a camera."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, HTTPException, Response

from api.auth import current_user, footage_camera
from api.deps import get_station, query_instant, time_window
from nvr.station import Station
from storage.accounts import User
from storage.clock import now_ms
from storage.timeline import keyframe_times

router = APIRouter(prefix="/api/cameras")
MAX_KEYFRAMES_MS = 3_600_000
# how far the segment being written, as its recorder reports it each second, can end before the moment asked
LIVE_EDGE_MS = 2000


@router.get("/{name}/keyframes")
def keyframes(name: str, start: str, end: str, user: User = Depends(current_user),
              station: Station = Depends(get_station)) -> dict[str, Any]:
    """`keyframes_ms`: the wall times (ms since 1970) of the keyframes in [start, end), led by the one at or
    before start; at most an hour. Fast and backward playback show these pictures."""
    footage_camera(station, user, name)
    window = time_window(station, start, end, max_ms=MAX_KEYFRAMES_MS, required=True)
    segments = station.segments(name, window.start_ms, window.end_ms)
    return {"camera": name, "keyframes_ms": keyframe_times(segments, window.start_ms, window.end_ms)}


@router.get("/{name}/thumbnail.jpg", response_class=Response)
def thumbnail(name: str, at: str, user: User = Depends(current_user),
              station: Station = Depends(get_station)) -> Response:
    """The keyframe at or before `at` as a small JPEG (192 pixels wide), for the timeline's hover; within
    LIVE_EDGE_MS of now, the newest keyframe recorded."""
    footage_camera(station, user, name)
    at_ms = query_instant(station, "at", at)
    reach = LIVE_EDGE_MS if at_ms > now_ms() - LIVE_EDGE_MS else 0  # the newest picture for the live edge
    picture = station.thumbnails.picture(station.segments(name, at_ms - reach, at_ms + 1), at_ms, reach)
    if picture is None:
        raise HTTPException(404, "no footage of this camera at this time")
    return Response(picture, media_type="image/jpeg")
