"""Camera list and per-camera status; credentials never leave the server."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends

from ingest.status import StatusSnapshot
from ingest.urls import redact_url
from nvr.station import Station
from nvr.times import format_instant

from api.auth import current_user, visible_camera
from api.deps import get_station
from storage.accounts import User

router = APIRouter(prefix="/api")


def _stream(snapshot: StatusSnapshot, station: Station) -> dict[str, Any]:
    return {
        "status": snapshot.state,
        "since": format_instant(round(snapshot.since * 1000), station.config.zone),
        "last_error": snapshot.last_error,
        "fps": snapshot.fps,
        "bitrate_kbps": snapshot.bitrate_kbps,
        "width": snapshot.width,
        "height": snapshot.height,
        "codec": snapshot.codec,
        "clock_offset_seconds": snapshot.clock_offset_seconds,
        "clock_beyond_tolerance": snapshot.clock_beyond_tolerance,
    }


def describe_camera(station: Station, name: str) -> dict[str, Any]:
    config = station.config.camera(name)
    assert config is not None
    item: dict[str, Any] = {"name": name, "enabled": config.enabled, "record_url": redact_url(config.record_url),
                            "detect_url": redact_url(config.detect_url) if config.detect_url else None}
    runtime = station.cameras.get(name)
    if runtime is None:
        item.update(status="offline", last_error="disabled in the configuration")
        return item
    item.update(_stream(runtime.workers["record"].status.snapshot(), station))
    if "detect" in runtime.workers:
        item["detect"] = _stream(runtime.workers["detect"].status.snapshot(), station)
    item["recording_error"] = runtime.recorder.last_error
    item.update(_detection(station, name))
    return item


def _detection(station: Station, name: str) -> dict[str, Any]:
    """What detection last saw: `mode` (day or ir) and `tamper` (covered, moved, defocus, video_loss or None)."""
    seen = station.detection.pipeline.observed.get(name)
    if seen is None:
        return {"mode": None, "tamper": None}
    kinds = (("video_loss", seen.video_loss), ("covered", seen.covered), ("moved", seen.moved),
             ("defocus", seen.defocused))
    return {"mode": "ir" if seen.is_ir else "day", "tamper": next((kind for kind, on in kinds if on), None)}


@router.get("/health")
def health(station: Station = Depends(get_station)) -> dict[str, Any]:
    states = [r.workers["record"].status.snapshot().state for r in station.cameras.values()]
    return {"status": "ok", "cameras": len(station.config.cameras), "online": states.count("online")}


@router.get("/cameras")
def list_cameras(user: User = Depends(current_user), station: Station = Depends(get_station)) -> list[dict[str, Any]]:
    """The cameras the caller may see, with their live status."""
    return [describe_camera(station, c.name) for c in station.config.cameras if user.may_see(c.name)]


@router.get("/cameras/{name}")
def get_camera(name: str, user: User = Depends(current_user),
               station: Station = Depends(get_station)) -> dict[str, Any]:
    return describe_camera(station, visible_camera(station, user, name))
