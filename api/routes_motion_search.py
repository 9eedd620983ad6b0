"""Motion search: the moments a camera saw motion inside an area drawn on its picture.

Anyone who may see the camera may search it: operators and administrators every camera, a household its
own (searching its footage shows no more than playing it would). Every search is audited.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, HTTPException, Request
from pydantic import BaseModel, ConfigDict, Field

from api.auth import current_user, footage_camera, remote_address
from api.case_items import Instant
from api.deps import get_station, time_window
from detect.motion_grid import COLUMNS, ROWS, area_cells, cell_list
from nvr.motion_search import search_motion
from nvr.station import Station
from nvr.times import format_instant
from storage.accounts import User

router = APIRouter(prefix="/api/cameras")
MAX_SEARCH_MS = 31 * 86_400_000
MAX_AREA_POINTS = 100


class MotionSearch(BaseModel):
    """`start`, `end`: ISO 8601 or Unix seconds, as in queries. `area`: a polygon of [x, y] points in picture
    coordinates, 0..1 across and down, like the detection zones of config.yaml."""

    model_config = ConfigDict(extra="forbid")
    start: Instant
    end: Instant
    area: list[tuple[float, float]] = Field(max_length=MAX_AREA_POINTS)
    limit: int = Field(1000, ge=1, le=10_000)  # at most this many ranges, the earliest


@router.post("/{name}/motion-search")
def motion_search(name: str, query: MotionSearch, request: Request, user: User = Depends(current_user),
                  station: Station = Depends(get_station)) -> dict[str, Any]:
    """Ranges of motion inside the area within [start, end) (at most 31 days), earliest first; seconds with
    motion fewer than two quiet seconds apart are one range."""
    footage_camera(station, user, name)
    window = time_window(station, str(query.start), str(query.end), max_ms=MAX_SEARCH_MS)
    try:
        area = area_cells(tuple(query.area))
    except ValueError as exc:
        raise HTTPException(400, str(exc)) from None
    found = search_motion(station.motion_grids, name, window.start_ms, window.end_ms, area, query.limit)
    zone = station.config.zone
    start, end = format_instant(window.start_ms, zone), format_instant(window.end_ms, zone)
    station.audit.record("motion_search", username=user.username, camera=name, remote=remote_address(request),
                         detail=f"{start} .. {end}, area of {len(cell_list(area))} cells, {len(found.ranges)} ranges")
    return {
        "camera": name, "start": start, "end": end,
        "grid": {"columns": COLUMNS, "rows": ROWS},
        "area_cells": cell_list(area),
        "ranges": [{"start": format_instant(r.start_ms, zone), "end": format_instant(r.end_ms, zone),
                    "start_ms": r.start_ms, "end_ms": r.end_ms, "cells": cell_list(r.cells)} for r in found.ranges],
        "truncated": found.truncated,
        "query_ms": round(found.elapsed * 1000, 1),
    }
