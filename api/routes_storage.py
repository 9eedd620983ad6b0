"""Storage: how full the disk is and how much footage each camera keeps (duty officers and admins)."""

from __future__ import annotations

from typing import Annotated, Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Depends

from api.auth import staff_user
from api.deps import get_station
from nvr.station import DAY_MS, Station
from nvr.times import format_instant
from storage.accounts import User
from storage.clock import now_ms
from storage.clock_steps import ClockStep
from storage.usage import CameraUsage, storage_usage

router = APIRouter(prefix="/api")


@router.get("/storage")
def storage(_staff: Annotated[User, Depends(staff_user)],
            station: Annotated[Station, Depends(get_station)]) -> dict[str, Any]:
    """Total and free bytes of the segments' disk, the space reserve, footage locked by open cases, why space is
    short if it is, the forward steps of the station's clock that footage kept was stamped before, and per camera
    the bytes (locked among them) and days kept (by real age); the same for removed cameras whose footage is kept,
    by the name their recordings are read under."""
    names = [camera.name for camera in station.camera_list()]
    steps = station.clock_steps
    usage = storage_usage(station.index, station.segments_dir, station.reserve, names, steps)
    now = now_ms()
    zone = station.config.zone
    return {
        "total_bytes": usage.disk.total,
        "free_bytes": usage.disk.free,
        "min_free_bytes": station.config.storage.min_free_bytes,
        "reserve": {"bytes": usage.reserve_bytes, "held": usage.reserve_held},
        "locked_bytes": usage.locked_bytes,
        "shortage": station.retention.shortage,
        "clock_steps": [clock_step_answer(step, zone) for step in steps.steps],
        "cameras": [camera_usage_answer(c, now, zone) for c in usage.cameras],
        "removed_cameras": [camera_usage_answer(c, now, zone) for c in usage.others],
    }


def camera_usage_answer(usage: CameraUsage, now: int, zone: ZoneInfo) -> dict[str, Any]:
    return {"name": usage.camera, "bytes": usage.bytes, "locked_bytes": usage.locked_bytes, "segments": usage.segments,
            "oldest": format_instant(usage.oldest_ms, zone) if usage.oldest_ms is not None else None,
            "days_kept": round((now - usage.oldest_real_ms) / DAY_MS, 6) if usage.oldest_real_ms is not None else 0.0,
            "recorded_days": round(usage.recorded_ms / DAY_MS, 6)}


def clock_step_answer(step: ClockStep, zone: ZoneInfo) -> dict[str, Any]:
    """A forward step of the station's clock as the API gives it: footage stamped after `since` and up to `before`
    (the old clock's readings at its boot's start and at the step) was recorded `seconds` later than its stamp says;
    `after` is what the new clock read at the step."""
    return {"since": format_instant(step.since_ms, zone), "before": format_instant(step.before_ms, zone),
            "after": format_instant(step.after_ms, zone), "seconds": step.shift_ms / 1000}
