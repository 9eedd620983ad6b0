"""Camera list and per-camera status; credentials never leave the server."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, HTTPException

from api.auth import current_user, visible_camera
from api.deps import get_station
from ingest.status import StatusSnapshot
from ingest.urls import redact_url
from nvr.cameras import DISABLED
from nvr.station import Station
from nvr.times import format_instant
from storage.accounts import User

router = APIRouter(prefix="/api")


def _stream(snapshot: StatusSnapshot, station: Station) -> dict[str, Any]:
    return {
        "status": snapshot.state,
        "since": format_instant(round(snapshot.since * 1000), station.config.zone) if snapshot.since else None,
        "last_error": snapshot.last_error,
        "offline_cause": snapshot.offline_cause,
        "fps": snapshot.fps,
        "bitrate_kbps": snapshot.bitrate_kbps,
        "width": snapshot.width,
        "height": snapshot.height,
        "codec": snapshot.codec,
        "clock_offset_seconds": snapshot.clock_offset_seconds,
        "clock_beyond_tolerance": snapshot.clock_beyond_tolerance,
        "transport": snapshot.transport,
        "audio_codec": snapshot.audio_codec,
    }


def describe_camera(station: Station, name: str) -> dict[str, Any]:
    config = station.camera(name)
    if config is None:  # removed while the request ran
        raise HTTPException(404, f"no camera named {name!r}")
    item: dict[str, Any] = {"name": name, "title": config.title, "location": config.location, "area": config.area,
                            "enabled": config.enabled, "record_url": redact_url(config.record_url),
                            "detect_url": redact_url(config.detect_url) if config.detect_url else None}
    status = station.record_status(name)
    if status is None:
        item.update(status="offline", last_error=DISABLED)
        return item
    item.update(_stream(status, station))
    report = station.report(name)
    if report is not None and report.detect is not None:
        item["detect"] = _stream(report.detect, station)
    item["recording_error"] = report.recording_error if report is not None else None
    item.update(_detection(station, name))
    return item


def _detection(station: Station, name: str) -> dict[str, Any]:
    """What detection last saw: `mode` (day or ir), `tamper` (covered, moved, defocus, video_loss or None), and the
    weather it works in: `raining` (rain or snow taken out of the pictures) and `shaking` (the picture shakes)."""
    seen = station.detection.observed.get(name)
    if seen is None:
        return {"mode": None, "tamper": None, "raining": None, "shaking": None}
    kinds = (("video_loss", seen.video_loss), ("covered", seen.covered), ("moved", seen.moved),
             ("defocus", seen.defocused))
    return {"mode": "ir" if seen.is_ir else "day", "tamper": next((kind for kind, on in kinds if on), None),
            "raining": seen.raining, "shaking": seen.shaking}


@router.get("/health")
async def health(station: Station = Depends(get_station)) -> dict[str, Any]:
    """No database, no blocking call: answered on the event loop (monitors poll it often)."""
    reports = [report for c in station.camera_list() if (report := station.report(c.name)) is not None]
    states = [report.record.state for report in reports]
    # a stream that flows is not footage kept: a read-only disk showed every camera online and recording nothing
    failing = sum(report.recording_error is not None for report in reports)
    return {"status": "ok", "cameras": len(station.camera_list()), "online": states.count("online"),
            "recording_failed": failing}


@router.get("/cameras")
def list_cameras(user: User = Depends(current_user), station: Station = Depends(get_station)) -> list[dict[str, Any]]:
    """The cameras the caller may see, with their live status."""
    return [describe_camera(station, c.name) for c in station.camera_list() if user.may_see(c.name)]


@router.get("/cameras/{name}")
def get_camera(name: str, user: User = Depends(current_user),
               station: Station = Depends(get_station)) -> dict[str, Any]:
    return describe_camera(station, visible_camera(station, user, name))
