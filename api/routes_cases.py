"""Cases, the unit of evidence: camera ranges gathered from playback, the timeline, events and bookmarks.
Duty officers and administrators only; every change is audited. The footage of an open case is locked
against retention. Exports: api/routes_case_export.py."""

from __future__ import annotations

from typing import Annotated, Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Depends, HTTPException, Path, Request, Response
from pydantic import BaseModel, ConfigDict, Field

from api.auth import remote_address, staff_user
from api.case_items import ItemIn, Note, Title, resolve_item
from api.deps import get_station
from nvr.evidence.jobs import ExportJob
from nvr.station import Station
from nvr.times import format_instant
from storage.accounts import User
from storage.cases import Case, CaseItem, CaseStatus

router = APIRouter(prefix="/api/cases")
MAX_ITEMS = 100
CaseId = Annotated[int, Path(ge=1, le=2**31 - 1, description="a case's id")]
ItemId = Annotated[int, Path(ge=1, le=2**31 - 1, description="an item's id")]
Staff = Annotated[User, Depends(staff_user)]
StationDep = Annotated[Station, Depends(get_station)]


class NewCase(BaseModel):
    model_config = ConfigDict(extra="forbid")
    title: Title
    note: Note = ""
    items: list[ItemIn] = Field(default_factory=list, max_length=MAX_ITEMS)


class CaseChange(BaseModel):
    """What to change; what is left out stays. Closing a case unlocks its footage."""

    model_config = ConfigDict(extra="forbid")
    title: Title | None = None
    note: Note | None = None
    status: CaseStatus | None = None


def item_json(item: CaseItem, station: Station) -> dict[str, Any]:
    zone = station.config.zone
    return {"id": item.id, "camera": item.camera, "start": format_instant(item.start_ms, zone),
            "end": format_instant(item.end_ms, zone), "start_ms": item.start_ms, "end_ms": item.end_ms,
            "note": item.note, "event": item.event_id, "bookmark": item.bookmark_id,
            "added": format_instant(item.added_ms, zone), "added_by": item.added_by}


def export_json(job: ExportJob | None, case_id: int, zone: ZoneInfo) -> dict[str, Any]:
    """An export's state: `none`, `queued`, `running` (with `progress`, 0..1, and `waiting` while it waits for
    footage still being recorded), `ready` or `failed` (`error`); a station's or the district's
    (nvr/district/case_export.py)."""
    if job is None:
        return {"case": case_id, "state": "none"}
    return {"case": case_id, "state": job.state, "progress": job.progress, "waiting": job.waiting,
            "exported_by": job.by,
            "started": format_instant(job.started_ms, zone),
            "finished": format_instant(job.finished_ms, zone) if job.finished_ms is not None else None,
            "bytes": job.bytes, "error": job.error, "download": f"/api/cases/{case_id}/export.zip"}


def case_json(case: Case, station: Station, held: dict[int, int] | None = None) -> dict[str, Any]:
    """`held`: the station's cases held for the district (CaseStore.held_for_district), when already read."""
    zone = station.config.zone
    district_case = (station.cases.held_for_district() if held is None else held).get(case.id)
    return {"id": case.id, "title": case.title, "note": case.note, "status": case.status,
            "locked": case.status == "open", "created": format_instant(case.created_ms, zone),
            "created_by": case.created_by, "updated": format_instant(case.updated_ms, zone),
            "district_case": district_case,
            "items": [item_json(item, station) for item in case.items],
            "export": export_json(station.exports.current(case), case.id, station.config.zone)}


def existing_case(station: Station, case_id: int) -> Case:
    case = station.cases.get(case_id)
    if case is None:
        raise HTTPException(404, f"no case {case_id}")
    return case


def machine(user: User) -> str | None:
    """Whom a change comes from, for a case held for the district (storage.cases.CaseStore._changeable): the
    account's name when it signed in with a machine key (the district's mirror uses its creator's), else None (a
    person, even one signed in to that account with its password). Closing such a case, or taking an item out, here
    would unlock footage the district still holds: a refusal is CaseHeld, a 409."""
    return user.username if user.machine_key else None


def audit(station: Station, request: Request, user: User, action: str, detail: str,
          camera: str | None = None) -> None:
    station.audit.record(action, username=user.username, camera=camera, detail=detail,
                         remote=remote_address(request))


@router.get("")
def list_cases(staff: Staff, station: StationDep, status: CaseStatus | None = None) -> list[dict[str, Any]]:
    """Cases, newest first (`status=open` or `closed` to choose)."""
    held = station.cases.held_for_district()
    return [case_json(case, station, held) for case in station.cases.all(status)]


@router.post("", status_code=201)
def create_case(new: NewCase, request: Request, staff: Staff, station: StationDep) -> dict[str, Any]:
    """A case, open (its footage locked), with the items given; 400/404 name the bad item (`items[1].end`)."""
    items = [resolve_item(station, staff, item, f"items[{n}].") for n, item in enumerate(new.items)]
    case = station.cases.create(new.title, new.note, items, staff.username)
    audit(station, request, staff, "case_create", f"case {case.id} {case.title!r}: {len(items)} items")
    return case_json(case, station)


@router.get("/{case_id}")
def get_case(case_id: CaseId, staff: Staff, station: StationDep) -> dict[str, Any]:
    return case_json(existing_case(station, case_id), station)


@router.patch("/{case_id}")
def change_case(case_id: CaseId, change: CaseChange, request: Request, staff: Staff,
                station: StationDep) -> dict[str, Any]:
    asked = change.model_dump(exclude_none=True)
    if not asked:  # nothing to change: no new `updated`, no audit row (found in review)
        return case_json(existing_case(station, case_id), station)
    case = station.cases.update(case_id, title=change.title, note=change.note, status=change.status,
                                machine=machine(staff))
    if case is None:
        raise HTTPException(404, f"no case {case_id}")
    changed = ", ".join(f"{name} {value!r}" for name, value in asked.items())
    audit(station, request, staff, "case_update", f"case {case_id}: {changed}")
    return case_json(case, station)


@router.delete("/{case_id}", status_code=204)
def delete_case(case_id: CaseId, request: Request, staff: Staff, station: StationDep) -> Response:
    """The case, its items and its export go; its footage is no longer locked."""
    case = existing_case(station, case_id)
    if not station.cases.delete(case_id, machine(staff)):
        raise HTTPException(404, f"no case {case_id}")
    station.exports.forget(case_id)
    audit(station, request, staff, "case_delete", f"case {case_id} {case.title!r}")
    return Response(status_code=204)


@router.post("/{case_id}/items", status_code=201)
def add_item(case_id: CaseId, item: ItemIn, request: Request, staff: Staff, station: StationDep) -> dict[str, Any]:
    """One more item: `{"camera", "start", "end", "note"}`, `{"event": id}` or `{"bookmark": id}`."""
    case = existing_case(station, case_id)
    if len(case.items) >= MAX_ITEMS:
        raise HTTPException(400, f"a case holds at most {MAX_ITEMS} items")
    added = station.cases.add_item(case_id, resolve_item(station, staff, item), staff.username, machine(staff))
    if added is None:
        raise HTTPException(404, f"no case {case_id}")
    zone = station.config.zone
    audit(station, request, staff, "case_item_add", f"case {case_id} item {added.id}: "
          f"{format_instant(added.start_ms, zone)} .. {format_instant(added.end_ms, zone)}", camera=added.camera)
    return item_json(added, station)


@router.delete("/{case_id}/items/{item_id}", status_code=204)
def remove_item(case_id: CaseId, item_id: ItemId, request: Request, staff: Staff, station: StationDep) -> Response:
    case = existing_case(station, case_id)
    item = next((i for i in case.items if i.id == item_id), None)
    if item is None or not station.cases.remove_item(case_id, item_id, machine(staff)):
        raise HTTPException(404, f"case {case_id} has no item {item_id}")
    audit(station, request, staff, "case_item_remove", f"case {case_id} item {item_id}", camera=item.camera)
    return Response(status_code=204)
