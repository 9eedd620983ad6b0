"""A camera's detection areas (zones to watch, masks never to watch) and where it saw motion lately, for the
administrator who draws them on its picture: the sea whose foam alarms all day, a crown of leaves, a flag.

Changing them restarts only the camera's detection, not its recording or live view
(`nvr.config.CameraConfig.recording_part`). Where detection saw motion comes from the motion grids
(`design/motion_search.md`): per cell of the 16x9 grid, the seconds it moved.
"""

from __future__ import annotations

import hashlib
import json
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from pydantic import BaseModel, ConfigDict, Field

from api.auth import admin_user
from api.deps import get_station
from api.routes_camera_admin import admin_camera, changed_camera
from detect.motion_grid import COLUMNS, ROWS
from nvr.config import CameraConfig
from nvr.motion_search import motion_per_cell
from nvr.station import Station
from nvr.times import format_instant
from storage.accounts import User
from storage.clock import now_ms

router = APIRouter(prefix="/api/cameras")
HOUR_MS = 3_600_000
MAX_HOURS = 7 * 24
MAX_AREAS = 32  # zones or masks of a camera
MAX_POINTS = 100  # of a polygon, as for motion search
Area = Annotated[list[tuple[float, float]], Field(max_length=MAX_POINTS)]


class DetectionAreas(BaseModel):
    """Polygons of [x, y] points in picture coordinates (0..1 across and down); one left out keeps its value.
    `version`: the one the areas were read at (409 if they changed since: another administrator, `nvr camera`)."""

    model_config = ConfigDict(extra="forbid")
    zones: list[Area] | None = Field(None, max_length=MAX_AREAS)
    masks: list[Area] | None = Field(None, max_length=MAX_AREAS)
    version: str | None = Field(None, max_length=64)


def _version(camera: CameraConfig) -> str:
    """What the camera's areas are, in a few characters: equal versions, equal areas."""
    areas = json.dumps([camera.detect.zones, camera.detect.masks])
    return hashlib.sha256(areas.encode()).hexdigest()[:16]


def _areas(camera: CameraConfig) -> dict[str, Any]:
    return {"camera": camera.name, "zones": camera.detect.zones, "masks": camera.detect.masks,
            "version": _version(camera)}


@router.get("/{name}/detection-areas")
def detection_areas(name: str, hours: float = Query(24.0, gt=0, le=MAX_HOURS), admin: User = Depends(admin_user),
                    station: Station = Depends(get_station)) -> dict[str, Any]:
    """The camera's zones and masks, and over the last `hours` the seconds with motion (`motion_seconds`) and, for
    each cell of the `grid` that moved, `[column, row, seconds]` (`cells`)."""
    camera = admin_camera(station, admin, name)
    end_ms = now_ms()
    start_ms = end_ms - round(hours * HOUR_MS)
    seconds, per_cell = motion_per_cell(station.motion_grids, name, start_ms, end_ms)
    rows, columns = per_cell.nonzero()
    zone = station.config.zone
    return _areas(camera) | {
        "start": format_instant(start_ms, zone), "end": format_instant(end_ms, zone),
        "grid": {"columns": COLUMNS, "rows": ROWS}, "motion_seconds": seconds,
        "cells": [[column, row, int(per_cell[row, column])] for row, column in zip(rows.tolist(), columns.tolist(),
                                                                                    strict=True)],
    }


@router.put("/{name}/detection-areas")
async def set_detection_areas(name: str, areas: DetectionAreas, request: Request, admin: User = Depends(admin_user),
                              station: Station = Depends(get_station)) -> dict[str, Any]:
    """Set the camera's zones and/or masks (400 naming a bad polygon; 409 if `version` is not theirs now); its other
    settings are kept."""
    if areas.version is not None and areas.version != _version(admin_camera(station, admin, name)):
        raise HTTPException(409, "the camera's detection areas changed since they were read; read them again")
    camera = await changed_camera(
        station, admin, name, request, {"detect": areas.model_dump(exclude_none=True, exclude={"version"})},
        lambda changed: f"detection areas: zones {len(changed.detect.zones)}, masks {len(changed.detect.masks)}")
    return _areas(camera)
