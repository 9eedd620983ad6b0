"""What was recorded when, and clips of it."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from functools import partial
from typing import Any, Literal
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import StreamingResponse

from api.auth import current_user, footage_camera, remote_address
from api.clip_stream import stream_clip
from api.deps import Window, get_station, time_window
from api.routes_storage import clock_step_answer
from nvr.event_clips import MAX_CLIP_MS
from nvr.station import Station
from nvr.times import format_instant
from storage.accounts import User
from storage.clip_transcode import PLAYABLE, segment_codec, write_transcoded_clip
from storage.clips import plan_clip, write_clip
from storage.clock import now_ms
from storage.clock_steps import ClockSteps
from storage.index import Outage
from storage.timeline import gaps, recorded_ranges

router = APIRouter(prefix="/api/cameras")
MAX_LISTING_MS = 31 * 86_400_000
# the wall time (ms since 1970) of the clip's time zero, its first keyframe (shown a frame or two later by a camera
# sending B-frames: design/playback.md)
CLIP_START_HEADER = "X-Clip-Start-Ms"


@router.get("/{name}/recordings")
def recordings(name: str, start: str | None = None, end: str | None = None, user: User = Depends(current_user),
               station: Station = Depends(get_station)) -> dict[str, Any]:
    """Recorded ranges and gaps (with reasons) of one camera; default: the last 24 hours. `clock_steps`: the forward
    steps of the station's clock that footage in the window may have been stamped before (its real time is later
    than its stamp by the step: the stamps between a step's `since` and `before`)."""
    footage_camera(station, user, name)
    window = time_window(station, start, end, max_ms=MAX_LISTING_MS)
    return {"camera": name, **recordings_answer(partial(station.recorded_spans, name),
                                                partial(station.index.outages, name), station.clock_steps, window,
                                                station.config.zone)}


def recordings_answer(spans: Callable[[int, int], Iterable[tuple[int, int]]],
                      outages: Callable[[int, int], list[Outage]], steps: ClockSteps, window: Window,
                      zone: ZoneInfo) -> dict[str, Any]:
    """The window, its recorded ranges, its gaps with their reasons and the clock steps its footage may predate,
    as a post and the district answer them; `spans` and `outages` read the camera's rows between two instants."""
    until = min(window.end_ms, now_ms())  # the future is not a gap
    ranges = recorded_ranges(spans(window.start_ms, until), window.start_ms, until)
    holes = gaps(ranges, outages(window.start_ms, until), window.start_ms, until, steps.steps)
    return {
        "start": format_instant(window.start_ms, zone),
        "end": format_instant(window.end_ms, zone),
        "ranges": [{"start": format_instant(r.start_ms, zone), "end": format_instant(r.end_ms, zone)}
                   for r in ranges],
        "gaps": [{"start": format_instant(g.start_ms, zone), "end": format_instant(g.end_ms, zone),
                  "reason": g.reason} for g in holes],
        "clock_steps": [clock_step_answer(step, zone) for step in steps.steps
                        if step.overlaps(window.start_ms, window.end_ms)],
    }


@router.get("/{name}/clip.mp4", response_class=StreamingResponse)
def clip(name: str, start: str, end: str, request: Request, purpose: Literal["download", "playback"] = "download",
         user: User = Depends(current_user), station: Station = Depends(get_station)) -> StreamingResponse:
    """An MP4 of [start, end) beginning at the keyframe at or before start, streamed while it is cut.
    `purpose=playback` is what the station screen's player asks for: shown inline, audited as playback."""
    footage_camera(station, user, name)
    window = time_window(station, start, end, max_ms=MAX_CLIP_MS, required=True)
    return clip_response(station, user, name, window.start_ms, window.end_ms, remote_address(request), purpose)


def clip_response(station: Station, user: User, name: str, start_ms: int, end_ms: int, remote: str | None,
                  purpose: Literal["download", "playback"] = "download") -> StreamingResponse:
    """Plan, audit and stream a clip of a camera the caller may see."""
    plan = plan_clip(station.segments(name, start_ms, end_ms), start_ms, end_ms)
    if plan is None:
        raise HTTPException(404, "no footage of this camera in the requested range")
    zone = station.config.zone
    stamp = datetime.fromtimestamp(plan.first_ms / 1000, UTC).astimezone(zone)
    filename = f"{name}_{stamp:%Y%m%d-%H%M%S}.mp4"
    station.audit.record("clip" if purpose == "download" else "playback", username=user.username, camera=name,
                         remote=remote, detail=f"{format_instant(start_ms, zone)} .. {format_instant(end_ms, zone)}")
    disposition = "attachment" if purpose == "download" else "inline"
    codec = segment_codec(station.segments_dir / plan.segments[0].path) if purpose == "playback" else None
    write = write_transcoded_clip if codec not in (None, PLAYABLE) else write_clip  # browsers play no H.265
    return StreamingResponse(stream_clip(plan, station.segments_dir, station.leases, write), media_type="video/mp4",
                             headers={"Content-Disposition": f'{disposition}; filename="{filename}"',
                                      "Cache-Control": "no-store", CLIP_START_HEADER: str(plan.first_ms)})
