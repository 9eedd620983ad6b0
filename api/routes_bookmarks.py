"""Bookmarks: a moment on a camera with a note (duty officers and administrators; every change audited).
A case takes one as an item with `POST /api/cases/{id}/items {"bookmark": id}`."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Path, Query, Request, Response
from pydantic import BaseModel, ConfigDict

from api.auth import footage_camera, footage_cameras, may_read_footage
from api.case_items import BOOKMARK_AFTER_MS, BOOKMARK_BEFORE_MS, Instant, Note
from api.deps import query_instant, time_window
from api.routes_cases import Staff, StationDep, audit
from nvr.station import Station
from nvr.times import format_instant
from storage.accounts import User
from storage.bookmarks import Bookmark

router = APIRouter(prefix="/api/bookmarks")
BookmarkId = Annotated[int, Path(ge=1, le=2**31 - 1, description="a bookmark's id")]


class NewBookmark(BaseModel):
    model_config = ConfigDict(extra="forbid")
    camera: str
    at: Instant
    note: Note = ""


class BookmarkChange(BaseModel):
    model_config = ConfigDict(extra="forbid")
    note: Note


def bookmark_json(bookmark: Bookmark, station: Station) -> dict[str, Any]:
    zone = station.config.zone
    return {"id": bookmark.id, "camera": bookmark.camera, "at": format_instant(bookmark.at_ms, zone),
            "at_ms": bookmark.at_ms, "note": bookmark.note, "created": format_instant(bookmark.created_ms, zone),
            "created_by": bookmark.created_by}


def existing_bookmark(station: Station, user: User, bookmark_id: int) -> Bookmark:
    bookmark = station.bookmarks.get(bookmark_id)
    if bookmark is None or not may_read_footage(station, user, bookmark.camera):
        raise HTTPException(404, f"no bookmark {bookmark_id}")
    return bookmark


@router.get("")
def list_bookmarks(staff: Staff, station: StationDep, camera: str | None = None, start: str | None = None,
                   end: str | None = None, limit: int = Query(500, ge=1, le=5000)) -> list[dict[str, Any]]:
    """Bookmarks in the window (default: the last 24 hours), newest first."""
    cameras = [footage_camera(station, staff, camera)] if camera else footage_cameras(station, staff)
    window = time_window(station, start, end)
    return [bookmark_json(b, station) for b in station.bookmarks.query(cameras, window.start_ms, window.end_ms, limit)]


@router.post("", status_code=201)
def add_bookmark(new: NewBookmark, request: Request, staff: Staff, station: StationDep) -> dict[str, Any]:
    camera = footage_camera(station, staff, new.camera)  # a removed camera's footage is marked as any other
    at_ms = query_instant(station, "at", str(new.at))
    # a moment marked on footage: one with none around it (a typo of a year, the future) could never go into a case
    if not station.recorded_spans(camera, at_ms - BOOKMARK_BEFORE_MS, at_ms + BOOKMARK_AFTER_MS):
        raise HTTPException(404, f"at: no footage of {camera} within {BOOKMARK_BEFORE_MS // 1000} s of that moment")
    bookmark = station.bookmarks.add(camera, at_ms, new.note, staff.username)
    audit(station, request, staff, "bookmark_add",
          f"bookmark {bookmark.id} at {format_instant(bookmark.at_ms, station.config.zone)}", camera=camera)
    return bookmark_json(bookmark, station)


@router.get("/{bookmark_id}")
def get_bookmark(bookmark_id: BookmarkId, staff: Staff, station: StationDep) -> dict[str, Any]:
    return bookmark_json(existing_bookmark(station, staff, bookmark_id), station)


@router.patch("/{bookmark_id}")
def change_bookmark(bookmark_id: BookmarkId, change: BookmarkChange, request: Request, staff: Staff,
                    station: StationDep) -> dict[str, Any]:
    existing = existing_bookmark(station, staff, bookmark_id)
    bookmark = station.bookmarks.update(bookmark_id, change.note)
    if bookmark is None:
        raise HTTPException(404, f"no bookmark {bookmark_id}")
    audit(station, request, staff, "bookmark_update", f"bookmark {bookmark_id}", camera=existing.camera)
    return bookmark_json(bookmark, station)


@router.delete("/{bookmark_id}", status_code=204)
def delete_bookmark(bookmark_id: BookmarkId, request: Request, staff: Staff, station: StationDep) -> Response:
    existing = existing_bookmark(station, staff, bookmark_id)
    if not station.bookmarks.delete(bookmark_id):
        raise HTTPException(404, f"no bookmark {bookmark_id}")
    audit(station, request, staff, "bookmark_delete", f"bookmark {bookmark_id}", camera=existing.camera)
    return Response(status_code=204)
