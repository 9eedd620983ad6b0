"""Administrators add, change and remove cameras while the station runs; every change is audited.

A camera changed here is managed by the catalog from then on (config.yaml's entry for it is ignored).
Removing a camera stops its recording; its footage stays until retention takes it.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from fastapi import APIRouter, Depends, HTTPException, Request, Response
from pydantic import BaseModel, ConfigDict, ValidationError

from api.auth import admin_user, remote_address, visible_camera
from api.deps import get_station, record_audit
from api.routes_cameras import describe_camera
from ingest.urls import redact_url
from nvr.config import CameraConfig, validation_problems
from nvr.station import Station
from storage.accounts import User
from storage.camera_store import NameNotFreeYet

router = APIRouter(prefix="/api/cameras")


class CameraChange(BaseModel):
    """The settings to change; those left out keep their value."""

    model_config = ConfigDict(extra="forbid")
    title: str | None = None
    location: str | None = None
    area: str | None = None
    record_url: str | None = None
    detect_url: str | None = None
    enabled: bool | None = None
    detect: dict[str, Any] | None = None


class NewCamera(CameraChange):
    name: str
    record_url: str


def _validated(settings: dict[str, Any]) -> CameraConfig:
    try:
        return CameraConfig.model_validate(settings)
    except ValidationError as exc:
        raise HTTPException(400, "; ".join(validation_problems(exc))) from None


def _detail(camera: CameraConfig) -> str:
    """What the audit log keeps of a camera: never its password."""
    return f"record_url {redact_url(camera.record_url)}" + (f" enabled {camera.enabled}" if not camera.enabled else "")


@router.post("", status_code=201)
async def add_camera(new: NewCamera, request: Request, admin: User = Depends(admin_user),
                     station: Station = Depends(get_station)) -> dict[str, Any]:
    return await add_new_camera(station, new.model_dump(exclude_none=True), admin, request)


async def add_new_camera(station: Station, settings: dict[str, Any], admin: User, request: Request,
                         origin: str = "") -> dict[str, Any]:
    """Add a camera (400 for a bad setting, 409 for a name in use or removed seconds ago), audited with `origin`
    after its URL."""
    camera = _validated(settings)
    if station.camera(camera.name) is not None:
        raise HTTPException(409,
                            f"a camera named {camera.name!r} exists; change it with PUT /api/cameras/{camera.name}")
    try:
        await asyncio.to_thread(station.put_camera, camera)
    except NameNotFreeYet as exc:
        raise HTTPException(409, str(exc), headers={"Retry-After": str(exc.wait_seconds)}) from None
    await record_audit(station, "camera_add", username=admin.username, camera=camera.name,
                       detail=_detail(camera) + origin, remote=remote_address(request))
    return describe_camera(station, camera.name)


@router.put("/{name}")
async def change_camera(name: str, change: CameraChange, request: Request, admin: User = Depends(admin_user),
                        station: Station = Depends(get_station)) -> dict[str, Any]:
    await changed_camera(station, admin, name, request, change.model_dump(exclude_unset=True))
    return describe_camera(station, name)


def admin_camera(station: Station, admin: User, name: str) -> CameraConfig:
    """The camera `name`; 404 if `admin` may not see it, or it was removed meanwhile."""
    visible_camera(station, admin, name)
    camera = station.camera(name)
    if camera is None:
        raise HTTPException(404, f"no camera named {name!r}")
    return camera


async def changed_camera(station: Station, admin: User, name: str, request: Request, changes: dict[str, Any],
                         detail: Callable[[CameraConfig], str] = _detail) -> CameraConfig:
    """The camera `name` with the settings `changes` gives, the others kept (within `detect` too: a change of its
    sensitivity keeps its masks), validated (400), stored and audited with `detail`."""
    current = admin_camera(station, admin, name)
    if changes.get("detect") is not None:
        changes = changes | {"detect": current.detect.model_dump() | changes["detect"]}
    camera = _validated({**current.model_dump(), **changes, "name": name})
    await asyncio.to_thread(station.put_camera, camera)
    await record_audit(station, "camera_set", username=admin.username, camera=name, detail=detail(camera),
                       remote=remote_address(request))
    return camera


@router.delete("/{name}", status_code=204)
async def remove_camera(name: str, request: Request, admin: User = Depends(admin_user),
                        station: Station = Depends(get_station)) -> Response:
    visible_camera(station, admin, name)
    if not await asyncio.to_thread(station.remove_camera, name):
        raise HTTPException(404, f"no camera named {name!r}")
    await record_audit(station, "camera_rm", username=admin.username, camera=name, remote=remote_address(request))
    return Response(status_code=204)
