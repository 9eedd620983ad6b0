"""What a case item is made from: a camera range typed or picked on the timeline, an event, or a bookmark.
Times are read as everywhere in the API (ISO 8601, local without an offset, or Unix seconds); each bad
field's 400 names it (`items[1].start: ...`)."""

from __future__ import annotations

from typing import Annotated
from zoneinfo import ZoneInfo

from fastapi import HTTPException
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StrictFloat, StrictInt, StrictStr, StringConstraints

from api.auth import footage_camera, may_read_footage
from api.deps import span_text, zoned_instant
from api.routes_events import visible_event
from nvr.config import one_line, readable
from nvr.event_clips import MAX_CLIP_MS, event_range
from nvr.station import Station
from storage.accounts import User
from storage.cases import NewItem
from storage.clock import now_ms

BOOKMARK_BEFORE_MS = 30_000  # a bookmark's item, unless start and end are given: the minute around it
BOOKMARK_AFTER_MS = 30_000


RowId = Annotated[int, Field(ge=1, le=2**31 - 1)]
Instant = StrictStr | StrictInt | StrictFloat  # ISO 8601 text or Unix seconds; `true` is neither (it was 1970)
NOTE_MAX, TITLE_MAX = 4000, 200
Note = Annotated[str, Field(max_length=NOTE_MAX), AfterValidator(readable)]
Title = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=TITLE_MAX),
                  AfterValidator(one_line)]


class ItemIn(BaseModel):
    """`camera`, `start` and `end`; or `event` or `bookmark` (its camera, and its time unless start and end
    are given)."""

    model_config = ConfigDict(extra="forbid")
    camera: str | None = None
    start: Instant | None = None
    end: Instant | None = None
    note: Note | None = None
    event: RowId | None = None
    bookmark: RowId | None = None


def check_range(start_ms: int, end_ms: int, where: str = "") -> None:
    """400 unless [start_ms, end_ms) is a range of at most MAX_CLIP_MS, as a case item must be."""
    if end_ms <= start_ms:
        raise HTTPException(400, f"{where}end: must be after start")
    if end_ms - start_ms > MAX_CLIP_MS:
        raise HTTPException(400, f"{where}end: the range is longer than the limit of {span_text(MAX_CLIP_MS)}")

def typed_over(zone: ZoneInfo, start: Instant | None, end: Instant | None, start_ms: int | None,
               end_ms: int | None, where: str = "") -> tuple[int | None, int | None]:
    """An item's range: what its event or bookmark gives (`start_ms`, `end_ms`), each end replaced by the one
    typed; 400 naming the field for a time that cannot be read."""
    if start is not None:
        start_ms = zoned_instant(zone, f"{where}start", str(start))
    if end is not None:
        end_ms = zoned_instant(zone, f"{where}end", str(end))
    return start_ms, end_ms


def resolve_item(station: Station, user: User, item: ItemIn, where: str = "") -> NewItem:
    """The item to store; `where` prefixes the field names in errors (`items[0].`)."""
    if item.event is not None and item.bookmark is not None:
        raise HTTPException(400, f"{where}event, {where}bookmark: give one of them, not both")
    camera, start_ms, end_ms, note = item.camera, None, None, item.note
    going_on = False  # an event still going on, whose end is not typed: the item follows it to its end
    if item.event is not None:
        event = visible_event(station, user, item.event)
        camera, (start_ms, end_ms) = event.camera, event_range(event, now_ms())
        going_on = event.end_ms is None and item.end is None
    if item.bookmark is not None:
        bookmark = station.bookmarks.get(item.bookmark)
        if bookmark is None or not may_read_footage(station, user, bookmark.camera):
            raise HTTPException(404, f"no bookmark {item.bookmark}")
        camera = bookmark.camera
        start_ms, end_ms = bookmark.at_ms - BOOKMARK_BEFORE_MS, bookmark.at_ms + BOOKMARK_AFTER_MS
        note = bookmark.note if note is None else note
    if item.camera is not None and item.camera != camera:
        raise HTTPException(400, f"{where}camera: the {'event' if item.event else 'bookmark'} is of camera {camera!r}")
    start_ms, end_ms = typed_over(station.config.zone, item.start, item.end, start_ms, end_ms, where)
    if camera is None or start_ms is None or end_ms is None:
        raise HTTPException(400, f"{where}camera, {where}start, {where}end: required (or an event or a bookmark)")
    try:
        footage_camera(station, user, camera)
    except HTTPException as refused:  # which item of several, as every other error here says
        raise HTTPException(refused.status_code, f"{where}camera: {refused.detail}") from None
    check_range(start_ms, end_ms, where)
    if not station.recorded_spans(camera, start_ms, end_ms):
        raise HTTPException(404, f"{where}start: no footage of {camera} in the requested range")
    return NewItem(camera, start_ms, end_ms, note or "", item.event, item.bookmark, follows_event=going_on)
