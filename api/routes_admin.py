"""Administrator routes: the audit log."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Query

from api.auth import admin_user
from api.deps import get_station, time_window
from nvr.station import Station
from nvr.times import format_instant
from storage.accounts import User

router = APIRouter(prefix="/api")


@router.get("/audit")
def audit(start: str | None = None, end: str | None = None, username: str | None = None,
          action: str | None = None, camera: str | None = None, limit: int = Query(500, ge=1, le=5000),
          _admin: User = Depends(admin_user), station: Station = Depends(get_station)) -> list[dict[str, Any]]:
    """Audit entries, newest first (default: the last 24 hours)."""
    window = time_window(station, start, end)
    zone = station.config.zone
    return [
        {"at": format_instant(e.at_ms, zone), "username": e.username, "action": e.action, "camera": e.camera,
         "detail": e.detail, "remote": e.remote}
        for e in station.audit.entries(start_ms=window.start_ms, end_ms=window.end_ms, username=username,
                                       action=action, camera=camera, limit=limit)
    ]
