"""The district's cases (`/api/cases`, the conventions of a post's): items of several posts' cameras, each
mirrored into a case on its post so the post's lock keeps the footage (nvr/district/mirror.py); exports in
nvr/district/case_export.py. Duty officers and administrators only; every change audited in the district's
rows."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Annotated, Any

from fastapi import APIRouter, Depends, FastAPI, HTTPException, Request, Response
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.exc import SQLAlchemyError

from api.auth import remote_address
from api.case_items import Instant, Note, RowId, Title, check_range, typed_over
from api.routes_cases import MAX_ITEMS, CaseChange, CaseId, ItemId, export_json
from nvr.district.access import DistrictUser, district_of, district_user, visible_place
from nvr.district.case_store import DistrictCase, DistrictCaseStore, DistrictItem
from nvr.district.export import DISTRICT_KEY_FILE, DistrictExportSource, build_district_export, wait_for_the_ends
from nvr.district.mirror import Mirrors, Wanted
from nvr.district.state import District
from nvr.event_clips import event_range
from nvr.evidence.jobs import ExportJob, ExportJobs
from nvr.evidence.signing import StationKey
from storage.cases import CaseStatus
from storage.clock import now_ms
from storage.events import Event


class DistrictCases:
    """The store, the mirrors at the posts, the exports (one at a time, in a thread) and the district's key."""

    def __init__(self, district: District) -> None:
        self.district = district
        self.store = DistrictCaseStore(district.catalog.engine)
        self.mirrors = Mirrors(district.clients, district.zone, self.store)
        self.key = StationKey.load_or_create(district.config.data_dir, DISTRICT_KEY_FILE)
        source = DistrictExportSource(district.zone, self.key, {s.id: s for s in district.config.stations})
        self.exports: ExportJobs[DistrictCase] = ExportJobs(
            district.config.data_dir / "exports",
            lambda case, by, out, progress, cancelled: build_district_export(source, case, by, out, progress,
                                                                             cancelled),
            self._failed, wait_for_the_ends)
        self.changing = asyncio.Lock()  # one change at a time: two first items of a post make one mirror

    def _failed(self, job: ExportJob) -> None:
        self.district.audit.record("case_export_failed", username=job.by, detail=f"case {job.case_id}: {job.error}")


@asynccontextmanager
async def _lifespan(app: FastAPI) -> AsyncIterator[None]:
    cases = DistrictCases(app.state.district)  # after the app's own lifespan made the posts' clients
    app.state.district_cases = cases
    try:
        yield
    finally:
        await asyncio.to_thread(cases.exports.stop)


def cases_of(request: Request) -> DistrictCases:
    cases: DistrictCases = request.app.state.district_cases
    return cases


def district_staff(user: DistrictUser = Depends(district_user)) -> DistrictUser:
    if user.user.role not in ("admin", "operator"):
        raise HTTPException(403, "cases are for duty officers and administrators")
    return user


router = APIRouter(prefix="/api/cases", lifespan=_lifespan)
Staff = Annotated[DistrictUser, Depends(district_staff)]
Cases = Annotated[DistrictCases, Depends(cases_of)]


class DistrictItemIn(BaseModel):
    """`station` with `camera`, `start` and `end`; or with `event` (its camera, and its clip's time unless
    start and end are given), as the district's feed lists it."""

    model_config = ConfigDict(extra="forbid")
    station: str = Field(max_length=63)
    camera: str | None = Field(None, max_length=63)
    start: Instant | None = None
    end: Instant | None = None
    event: RowId | None = None
    note: Note = ""


class NewDistrictCase(BaseModel):
    model_config = ConfigDict(extra="forbid")
    title: Title
    note: Note = ""
    items: list[DistrictItemIn] = Field(default_factory=list, max_length=MAX_ITEMS)


def item_json(item: DistrictItem, district: District) -> dict[str, Any]:
    return {"id": item.id, "station": item.station, "camera": item.camera, "start": district.when(item.start_ms),
            "end": district.when(item.end_ms), "start_ms": item.start_ms, "end_ms": item.end_ms, "note": item.note,
            "added": district.when(item.added_ms), "added_by": item.added_by, "post_item": item.post_item_id}


def case_json(case: DistrictCase, cases: DistrictCases) -> dict[str, Any]:
    district = cases.district
    return {"id": case.id, "title": case.title, "note": case.note, "status": case.status,
            "locked": case.status == "open", "created": district.when(case.created_ms),
            "created_by": case.created_by, "updated": district.when(case.updated_ms),
            "items": [item_json(item, district) for item in case.items], "posts": case.mirrors,
            "export": export_json(cases.exports.current(case), case.id, district.zone)}


async def answer(cases: DistrictCases, found: list[DistrictCase]) -> list[dict[str, Any]]:
    """The cases as JSON, off the event loop (an export's state may look at its file)."""
    return await asyncio.to_thread(lambda: [case_json(case, cases) for case in found])


async def existing_case(cases: DistrictCases, case_id: int) -> DistrictCase:
    case = await asyncio.to_thread(cases.store.get, case_id)
    if case is None:
        raise HTTPException(404, f"no case {case_id}")
    return case


async def audit(cases: DistrictCases, request: Request, user: DistrictUser, action: str, detail: str,
                camera: str | None = None) -> None:
    await asyncio.to_thread(cases.district.audit.record, action, username=user.username, camera=camera,
                            detail=detail, remote=remote_address(request))


def wanted(district: District, user: DistrictUser, item: DistrictItemIn, where: str = "") -> Wanted:
    """The item checked here (the post checks its footage): a camera of a configured post this user may see
    (else 404), a range of at most 24 hours."""
    camera, start_ms, end_ms = item.camera, None, None
    if item.event is not None:
        event = _visible_event(district, user, item.station, item.event)
        if camera is not None and camera != event.camera:
            raise HTTPException(400, f"{where}camera: the event is of camera {event.camera!r}")
        camera, (start_ms, end_ms) = event.camera, event_range(event, now_ms())
    start_ms, end_ms = typed_over(district.zone, item.start, item.end, start_ms, end_ms, where)
    if camera is None or start_ms is None or end_ms is None:
        raise HTTPException(400, f"{where}camera, {where}start, {where}end: required (or an event)")
    visible_place(district, user, item.station, camera)
    check_range(start_ms, end_ms, where)
    return Wanted(item.station, camera, start_ms, end_ms, item.note)


def _visible_event(district: District, user: DistrictUser, station: str, event_id: int) -> Event:
    """404, the same for an event that does not exist and one of a camera the user may not see."""
    event = district.catalog.event(station, event_id) if station in {s.id for s in district.config.stations} else None
    if event is None or not user.may_see(station, event.camera):
        raise HTTPException(404, f"no event {event_id} at station {station!r}")
    return event


async def _add(cases: DistrictCases, case: DistrictCase, asked: list[Wanted], by: str) -> list[DistrictItem]:
    held = await cases.mirrors.add(case, asked)
    return await asyncio.to_thread(cases.store.add_items, case.id, held, by)


@router.get("")
async def list_cases(staff: Staff, cases: Cases, status: CaseStatus | None = None) -> list[dict[str, Any]]:
    """The district's cases, newest first (`status=open` or `closed` to choose)."""
    found = await asyncio.to_thread(cases.store.all, status)
    return await answer(cases, found)


@router.post("", status_code=201)
async def create_case(new: NewDistrictCase, request: Request, staff: Staff, cases: Cases,
                      district: District = Depends(district_of)) -> dict[str, Any]:
    """An open case with the items given, each held in a case at its post (which locks its footage there);
    400/404 name the bad item (`items[1].end`), a post that refuses or cannot be reached refuses it all."""
    asked = [await asyncio.to_thread(wanted, district, staff, item, f"items[{n}].") for n, item in enumerate(new.items)]
    async with cases.changing:
        case = await asyncio.to_thread(cases.store.create, new.title, new.note, staff.username)
        try:
            await _add(cases, case, asked, staff.username)
        except (HTTPException, SQLAlchemyError):
            await asyncio.to_thread(cases.store.delete, case.id)
            raise
    await audit(cases, request, staff, "case_create", f"case {case.id} {case.title!r}: {len(asked)} items")
    return (await answer(cases, [await existing_case(cases, case.id)]))[0]


@router.get("/{case_id}")
async def get_case(case_id: CaseId, staff: Staff, cases: Cases) -> dict[str, Any]:
    return (await answer(cases, [await existing_case(cases, case_id)]))[0]


@router.patch("/{case_id}")
async def change_case(case_id: CaseId, change: CaseChange, request: Request, staff: Staff,
                      cases: Cases) -> dict[str, Any]:
    """Title, note, status: changed at every post's mirror first (closing unlocks the footage there)."""
    async with cases.changing:
        case = await existing_case(cases, case_id)
        await cases.mirrors.change(case, change.title, change.note, change.status)
        changed = await asyncio.to_thread(cases.store.update, case_id, title=change.title, note=change.note,
                                          status=change.status)
    if changed is None:
        raise HTTPException(404, f"no case {case_id}")
    what = ", ".join(f"{name} {value!r}" for name, value in change.model_dump(exclude_none=True).items())
    await audit(cases, request, staff, "case_update", f"case {case_id}: {what}")
    return (await answer(cases, [changed]))[0]


@router.delete("/{case_id}", status_code=204)
async def delete_case(case_id: CaseId, request: Request, staff: Staff, cases: Cases) -> Response:
    """The case goes with its mirrors at the posts (their footage no longer locked) and its export."""
    async with cases.changing:
        case = await existing_case(cases, case_id)
        await cases.mirrors.delete(case)
        await asyncio.to_thread(cases.store.delete, case_id)
    await asyncio.to_thread(cases.exports.forget, case_id)
    await audit(cases, request, staff, "case_delete", f"case {case_id} {case.title!r}")
    return Response(status_code=204)


@router.post("/{case_id}/items", status_code=201)
async def add_item(case_id: CaseId, item: DistrictItemIn, request: Request, staff: Staff, cases: Cases,
                   district: District = Depends(district_of)) -> dict[str, Any]:
    """One more item, `{"station", "camera", "start", "end", "note"}`, held at its post first."""
    asked = await asyncio.to_thread(wanted, district, staff, item)
    async with cases.changing:
        case = await existing_case(cases, case_id)
        if len(case.items) >= MAX_ITEMS:
            raise HTTPException(400, f"a case holds at most {MAX_ITEMS} items")
        added = await _add(cases, case, [asked], staff.username)
    if not added:
        raise HTTPException(404, f"no case {case_id}")
    await audit(cases, request, staff, "case_item_add", f"case {case_id} item {added[0].id}: "
                f"{district.when(asked.start_ms)} .. {district.when(asked.end_ms)}",
                camera=f"{item.station}/{item.camera}")
    return item_json(added[0], district)


@router.delete("/{case_id}/items/{item_id}", status_code=204)
async def remove_item(case_id: CaseId, item_id: ItemId, request: Request, staff: Staff, cases: Cases) -> Response:
    async with cases.changing:
        case = await existing_case(cases, case_id)
        item = next((i for i in case.items if i.id == item_id), None)
        if item is None:
            raise HTTPException(404, f"case {case_id} has no item {item_id}")
        await cases.mirrors.remove(case, item.station, item.post_item_id)
        await asyncio.to_thread(cases.store.remove_item, case_id, item_id)
    await audit(cases, request, staff, "case_item_remove", f"case {case_id} item {item_id}",
                camera=f"{item.station}/{item.camera}")
    return Response(status_code=204)
