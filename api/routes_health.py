"""Camera health over the last days (uptime, outages, tampering, last picture), worst first. Everyone logged
in may ask: administrators and duty officers get every camera, a household (viewer) only its own."""

from __future__ import annotations

from functools import partial
from typing import Any

from fastapi import APIRouter, Depends, Query

from api.auth import current_user
from api.deps import get_station
from nvr.health import MAX_LISTED, CameraHealth, Live, Period, camera_health
from nvr.station import DAY_MS, Station
from nvr.times import format_instant
from storage.accounts import User
from storage.clock import now_ms

router = APIRouter(prefix="/api/health")


def _live(station: Station, name: str) -> Live | None:
    report = station.report(name)
    if report is None:
        return None
    last = report.record.last_frame
    return Live(report.record.state == "online", round(last * 1000) if last is not None else None)


def _periods(periods: tuple[Period, ...], key: str, station: Station) -> list[dict[str, Any]]:
    zone = station.config.zone
    return [{"start": format_instant(p.start_ms, zone), "end": format_instant(p.end_ms, zone),
             "seconds": round(p.ms / 1000, 1), key: p.what} for p in periods[-MAX_LISTED:]]


def _health_json(health: CameraHealth, station: Station, now: int) -> dict[str, Any]:
    camera, last = health.camera, health.last_picture_ms
    return {
        "name": camera.name, "title": camera.title, "location": camera.location, "online": health.online,
        "uptime_percent": health.uptime_percent, "observed_seconds": round(health.observed_ms / 1000, 1),
        "down_seconds": round(health.down_ms / 1000, 1), "outage_count": len(health.outages),
        "outages": _periods(health.outages, "reason", station),
        "tamper_seconds": round(health.tamper_ms / 1000, 1), "tamper_count": len(health.tampers),
        "tampers": _periods(health.tampers, "type", station),
        "last_picture": format_instant(last, station.config.zone) if last is not None else None,
        "seconds_since_last_picture": round(max(0, now - last) / 1000, 1) if last is not None else None,
    }


@router.get("/cameras")
def cameras_health(days: float = Query(7, gt=0, le=366, description="the window: this many days up to now"),
                   user: User = Depends(current_user), station: Station = Depends(get_station)) -> dict[str, Any]:
    """Every enabled camera the caller may see, worst first (lowest uptime, then longest tampered, then the
    oldest last picture)."""
    cameras = [c for c in station.camera_list() if c.enabled and user.may_see(c.name)]
    end = now_ms()
    start = end - round(days * DAY_MS)
    found = camera_health(station.index, station.events, cameras, start, end, spans=station.recorded_spans,
                          live=partial(_live, station))
    zone = station.config.zone
    return {"start": format_instant(start, zone), "end": format_instant(end, zone), "days": days,
            "cameras": [_health_json(health, station, end) for health in found]}
