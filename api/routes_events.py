"""Events: search, one event, its snapshot and clip, acknowledgement, and the live stream of updates (WebSocket)."""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from contextlib import suppress
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Path, Query, Request, WebSocket, WebSocketDisconnect
from fastapi.responses import FileResponse, StreamingResponse
from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from api.auth import COOKIE, current_user, footage_camera, footage_cameras, may_read_footage, remote_address, staff_user
from api.connections import Closure, Connection, Connections, TooMany
from api.deps import get_station, time_window
from api.routes_recordings import clip_response
from detect.events import EVENT_TYPES
from nvr.config import readable
from nvr.event_bus import EventListener
from nvr.event_clips import event_range
from nvr.integrations.event_json import event_json
from nvr.station import Station
from nvr.times import format_instant
from storage.accounts import User
from storage.clock import now_ms
from storage.events import Event

router = APIRouter(prefix="/api/events")

# Event ids are the index's INTEGER keys (32 bits on PostgreSQL): anything else is refused as a bad `event_id`.
EventId = Annotated[int, Path(ge=1, le=2**31 - 1, description="an event's id")]


class Acknowledge(BaseModel):
    """What the officer noted when acknowledging an event (may be empty)."""

    model_config = ConfigDict(extra="forbid")
    note: Annotated[str, Field(max_length=1000), AfterValidator(readable)] = ""


def visible_event(station: Station, user: User, event_id: int) -> Event:
    event = station.events.get(event_id)
    if event is None or not may_read_footage(station, user, event.camera):
        raise HTTPException(404, f"no event {event_id}")
    return event


@router.get("")
def list_events(camera: str | None = None, type: str | None = None, start: str | None = None,  # noqa: A002
                end: str | None = None, acknowledged: bool | None = None, limit: int = Query(200, ge=1, le=5000),
                user: User = Depends(current_user), station: Station = Depends(get_station)) -> list[dict[str, Any]]:
    """Events overlapping the window (default: the last 24 hours), newest first; `acknowledged=false`: only
    those nobody has acknowledged yet."""
    if type is not None and type not in EVENT_TYPES:
        raise HTTPException(400, f"unknown event type {type!r}; one of {', '.join(EVENT_TYPES)}")
    cameras = [footage_camera(station, user, camera)] if camera else footage_cameras(station, user)
    window = time_window(station, start, end)
    found = station.events.query(cameras=cameras, types=[type] if type else None, start_ms=window.start_ms,
                                 end_ms=window.end_ms, limit=limit, acknowledged=acknowledged)
    return [event_json(e, station.config.zone) for e in found]


@router.get("/{event_id}")
def get_event(event_id: EventId, user: User = Depends(current_user),
              station: Station = Depends(get_station)) -> dict[str, Any]:
    return event_json(visible_event(station, user, event_id), station.config.zone)


@router.get("/{event_id}/snapshot.jpg", response_class=FileResponse)
def snapshot(event_id: EventId, user: User = Depends(current_user),
             station: Station = Depends(get_station)) -> FileResponse:
    event = visible_event(station, user, event_id)
    path = station.snapshots_dir / event.snapshot if event.snapshot else None
    if path is None or not path.exists():
        raise HTTPException(404, f"event {event_id} has no snapshot")
    return FileResponse(path, media_type="image/jpeg")  # not cached: every /api answer is no-store (api/app.py)


@router.get("/{event_id}/clip.mp4", response_class=StreamingResponse)
def event_clip(event_id: EventId, request: Request, user: User = Depends(current_user),
               station: Station = Depends(get_station)) -> StreamingResponse:
    """The event's footage with a few seconds before and after."""
    event = visible_event(station, user, event_id)
    return clip_response(station, user, event.camera, *event_range(event, now_ms()), remote_address(request))


@router.post("/{event_id}/ack")
def acknowledge(event_id: EventId, body: Acknowledge, request: Request, user: User = Depends(staff_user),
                station: Station = Depends(get_station)) -> dict[str, Any]:
    """An operator or administrator has seen the event and says so, with a note; audited, told to every screen.
    409 when somebody acknowledged it already (their acknowledgement stands)."""
    event = visible_event(station, user, event_id)
    note = body.note.strip()
    if not station.events.acknowledge(event_id, user.username, note):
        done = station.events.get(event_id)
        by = f" by {done.ack.by}" if done and done.ack else ""
        raise HTTPException(409, f"event {event_id} is already acknowledged{by}")
    what = f"event {event_id} ({event.type} at {format_instant(event.start_ms, station.config.zone)})"
    station.audit.record("event_ack", username=user.username, camera=event.camera, remote=remote_address(request),
                         detail=f"{what}: {note}" if note else what)
    updated = station.events.get(event_id)
    assert updated is not None
    station.event_bus.publish(updated)  # every screen shows it acknowledged
    return event_json(updated, station.config.zone)


@router.websocket("/ws")
async def event_stream(socket: WebSocket) -> None:
    """Every event update of the cameras the user may see, as JSON, as it happens; first the events
    still going on. Closed with 4401 when the session ends (logout, new password), 4429 over
    `server.max_websockets_per_user`; a revoked camera's events stop at once."""
    station: Station = socket.app.state.station
    connections: Connections = socket.app.state.connections
    token = socket.cookies.get(COOKIE) or socket.query_params.get("token")
    user = await asyncio.to_thread(station.accounts.user_for_token, token) if token else None
    origin = socket.headers.get("origin")
    elsewhere = origin is not None and origin.split("://", 1)[-1] != socket.headers.get("host")
    if token is None or user is None or user.must_change_password or elsewhere:
        await socket.close(code=4401)  # refused before accepting: no data ever flows
        return
    await socket.accept()  # a refusal past this point can say why, in the close frame
    with suppress(WebSocketDisconnect):  # the viewer may leave at any moment
        closure = await _serve(socket, station, connections, user, token)
        if closure is not None:
            await socket.close(code=closure.code, reason=closure.reason)


async def _serve(socket: WebSocket, station: Station, connections: Connections, user: User,
                 token: str) -> Closure | None:
    """Stream events until the viewer leaves (None) or the station ends the stream (why)."""
    try:
        held = connections.open("websocket", user, token)
    except TooMany as exc:
        return exc.closure
    listener = EventListener(asyncio.get_running_loop())
    try:
        going_on = await asyncio.to_thread(station.events.open_events)
        station.event_bus.subscribe(listener, backlog=going_on)  # a screen opened now shows the alerts of now
        await _first_of(_deliver(socket, station, listener, held), _gone(socket), held.wait_ended())
    finally:
        station.event_bus.unsubscribe(listener)
        connections.release(held)
    return held.closure


async def _deliver(socket: WebSocket, station: Station, listener: EventListener, held: Connection) -> None:
    while True:
        update = await listener.queue.get()
        if held.closure is None and held.user.may_see(update.camera):  # the grants as they are now
            await socket.send_json(event_json(update, station.config.zone))


async def _gone(socket: WebSocket) -> None:
    """Returns when the viewer closes the socket (its messages are not read), so that it frees its place
    at once rather than at the next event."""
    while (await socket.receive())["type"] != "websocket.disconnect":
        pass


async def _first_of(*steps: Coroutine[Any, Any, None]) -> None:
    """Run `steps` side by side until the first one returns or raises; the others are cancelled."""
    tasks = [asyncio.create_task(step) for step in steps]
    try:
        done, _ = await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
    for task in done:
        task.result()
