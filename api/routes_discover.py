"""Administrators find the ONVIF cameras on the station's network, and add one in one step; both audited.

The probe blocks (the WSDiscovery library waits in threads of its own), so it runs in a worker thread; the
cameras are read in a child process (nvr/onvif/isolated.py), each within the request's timeout. The cameras'
passwords are used, never logged, audited or answered: stream URLs come back without them.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, HTTPException, Request
from pydantic import BaseModel, ConfigDict, Field, SecretStr

from api.auth import admin_user, remote_address
from api.deps import get_station, record_audit
from api.routes_camera_admin import add_new_camera
from ingest.urls import redact_url
from nvr.onvif.discovery import DiscoveryError
from nvr.onvif.isolated import find_cameras, read_cameras
from nvr.onvif.model import FoundCamera, stream_settings
from nvr.station import Station
from storage.accounts import User

router = APIRouter(prefix="/api/discover")


class CameraLogin(BaseModel):
    model_config = ConfigDict(extra="forbid")
    user: str = Field("", max_length=128)
    password: SecretStr = Field(SecretStr(""), max_length=128)
    timeout: float = Field(5.0, gt=0, le=10, description="seconds to wait for the answers")


class Discovery(CameraLogin):
    address: str | None = Field(None, max_length=255, description="HOST[:PORT]: ask this address only (unicast)")


class DiscoveredCamera(CameraLogin):
    device: str = Field(max_length=2000, description="its device service address, as the discovery listed it")
    user: str = Field(min_length=1, max_length=128)
    name: str
    title: str = ""
    location: str = ""


@router.post("")
async def discover(ask: Discovery, request: Request, admin: User = Depends(admin_user),
                   station: Station = Depends(get_station)) -> list[dict[str, Any]]:
    """The cameras that answer a WS-Discovery probe, each with its maker, model and streams, or its error."""
    try:
        found = await find_cameras(ask.address, ask.user, ask.password.get_secret_value(), ask.timeout)
    except DiscoveryError as exc:
        raise HTTPException(400, str(exc)) from None
    await record_audit(station, "onvif_discover", username=admin.username,
                       detail=f"{ask.address or 'multicast'}: {len(found)} found", remote=remote_address(request))
    return [camera.shown() for camera in found]


@router.post("/add", status_code=201)
async def add_discovered(new: DiscoveredCamera, request: Request, admin: User = Depends(admin_user),
                         station: Station = Depends(get_station)) -> dict[str, Any]:
    """Read the camera's profiles again and add it with its main and sub streams, as POST /api/cameras does."""
    password = new.password.get_secret_value()
    [read] = await read_cameras([FoundCamera(new.device)], new.user, password, new.timeout)
    if read.info is None:
        raise HTTPException(400, f"{redact_url(new.device)}: {read.error}")
    info = read.info
    settings = {"name": new.name, "title": new.title, "location": new.location,
                **stream_settings(info, new.user, password)}
    return await add_new_camera(station, settings, admin, request, origin=f" (ONVIF {redact_url(new.device)})")
