"""A district case's items kept in a case on each involved post, through the post's own case API with the
district's machine key: the post's lock then keeps that footage from its retention while the case is open,
and the post's export of it is what the district's export holds. Calls run on the event loop with the
posts' clients (relay.station_clients).

Every change reaches the posts before the district's rows change, but for the hold on a new mirror (the row
that makes the post refuse its officers' changes to it), written as soon as the post has made it, before it
holds any footage. A post that cannot be reached refuses the change (502/504 naming it) and a retry is safe: a
mirror already gone counts as deleted."""

from __future__ import annotations

import asyncio
import logging
from contextlib import suppress
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

import httpx
from fastapi import HTTPException
from sqlalchemy.exc import SQLAlchemyError

from api.case_items import NOTE_MAX, TITLE_MAX
from nvr.district.case_store import DistrictCase, DistrictCaseStore, PostItem
from nvr.district.relay import bounded_call, json_object, post_refusal
from nvr.times import format_instant
from storage.cases import CaseStatus

log = logging.getLogger(__name__)
CALL_SECONDS = 30.0  # one call to a post's case API, whole (bounded_call): it answers within milliseconds when well


@dataclass(frozen=True)
class Wanted:
    """An item asked of the district, checked there: which post's camera, when (UTC ms)."""

    station: str
    camera: str
    start_ms: int
    end_ms: int
    note: str


def mirror_title(case_id: int, title: str) -> str:
    return f"[Quận #{case_id}] {title}"[:TITLE_MAX]


def mirror_note(case_id: int, note: str) -> str:
    said = (f"Bản sao vụ việc #{case_id} của máy chủ quận: giữ đoạn ghi hình khi vụ việc quận còn mở. "
            "Thay đổi vụ việc ở máy chủ quận, không ở đây.")
    return (said + ("\n\n" + note if note else ""))[:NOTE_MAX]


class Mirrors:
    def __init__(self, clients: dict[str, httpx.AsyncClient], zone: ZoneInfo, store: DistrictCaseStore) -> None:
        self._clients = clients
        self._zone = zone
        self._store = store

    async def add(self, case: DistrictCase, wanted: list[Wanted]) -> list[PostItem]:
        """The items added to each post's mirror case (made and held first where there is none), as held. On a
        refusal, what was added at the posts is taken away again and the refusal raised; the same when the catalog
        does not take a hold."""
        made: dict[str, int] = {}
        added: list[PostItem] = []
        try:
            for item in wanted:
                post_case = case.mirrors.get(item.station) or made.get(item.station)
                if post_case is None:
                    post_case = await self._new_mirror(case, item.station, made)
                answer = await self._call(item.station, "POST", f"/api/cases/{post_case}/items", {
                    "camera": item.camera, "start": format_instant(item.start_ms, self._zone),
                    "end": format_instant(item.end_ms, self._zone), "note": item.note})
                added.append(PostItem(item.station, item.camera, item.start_ms, item.end_ms, item.note,
                                      _made_id(item.station, answer)))
        except Exception:  # a post's refusal or odd answer; a hold not written (the app answers 503): undone
            await self._undo(case, made, added)
            raise
        return added

    async def change(self, case: DistrictCase, title: str | None, note: str | None,
                     status: CaseStatus | None) -> None:
        change: dict[str, Any] = {"status": status} if status else {}
        if title is not None:
            change["title"] = mirror_title(case.id, title)
        if note is not None:
            change["note"] = mirror_note(case.id, note)
        for station, post_case in case.mirrors.items():
            await self._call(station, "PATCH", f"/api/cases/{post_case}", change, gone_ok=True)

    async def delete(self, case: DistrictCase) -> None:
        for station, post_case in case.mirrors.items():
            await self._call(station, "DELETE", f"/api/cases/{post_case}", gone_ok=True)

    async def remove(self, case: DistrictCase, station: str, post_item: int) -> None:
        post_case = case.mirrors.get(station)
        if post_case is not None:
            await self._call(station, "DELETE", f"/api/cases/{post_case}/items/{post_item}", gone_ok=True)

    async def _new_mirror(self, case: DistrictCase, station: str, made: dict[str, int]) -> int:
        """A mirror case at `station` (recorded in `made` at once, for an undo), held for the district before it
        holds any footage. An officer at the post may have changed it in the moment between its making and the
        hold: its status is read again then and set to the district case's if it differs; deleted, the change is
        refused (409)."""
        answer = await self._call(station, "POST", "/api/cases", {"title": mirror_title(case.id, case.title),
                                                                  "note": mirror_note(case.id, case.note)})
        post_case = made[station] = _made_id(station, answer)
        await asyncio.to_thread(self._store.hold, case.id, station, post_case)
        if answer.get("status") == case.status:
            answer = await self._call(station, "GET", f"/api/cases/{post_case}", gone_ok=True)
            if not answer:
                raise HTTPException(409, f"station {station}: its case {post_case} for this case was deleted there "
                                         "as it was made; try again")
        if answer.get("status") != case.status:
            await self._call(station, "PATCH", f"/api/cases/{post_case}", {"status": case.status})
        return post_case

    async def _undo(self, case: DistrictCase, made: dict[str, int], added: list[PostItem]) -> None:
        """Best effort: a post that fails now keeps an item in its mirror, or the mirror made for this change
        (shown there, named by its title; no longer held, so the post's people may delete it)."""
        for item in added:
            if item.station not in made:
                with suppress(HTTPException):
                    await self.remove(case, item.station, item.post_item_id)
        for station, post_case in made.items():
            try:
                await self._call(station, "DELETE", f"/api/cases/{post_case}", gone_ok=True)
            except HTTPException as refused:
                log.warning("case %d: station %s keeps its case %d (%s)", case.id, station, post_case, refused.detail)
            try:
                await asyncio.to_thread(self._store.release, case.id, station)
            except SQLAlchemyError as exc:
                log.warning("case %d: the hold on station %s's case %d stays (the catalog: %s)", case.id, station,
                            post_case, type(exc).__name__)

    async def _call(self, station: str, method: str, path: str, body: dict[str, Any] | None = None, *,
                    gone_ok: bool = False) -> dict[str, Any]:
        """The post's JSON answer; 502/504 when it cannot be reached, its 400/404 passed on naming it."""
        try:
            answer = await bounded_call(self._clients[station], method, path, CALL_SECONDS, body)
        except (httpx.TimeoutException, TimeoutError):
            raise HTTPException(504, f"station {station} did not answer in time") from None
        except httpx.HTTPError as exc:
            raise HTTPException(502, f"station {station} is unreachable ({type(exc).__name__})") from None
        if answer.status_code == 404 and gone_ok:
            return {}
        if answer.status_code >= 300:
            raise post_refusal(station, answer)
        found = json_object(answer) if answer.content else {}
        if found is None:  # a proxy's page, say: an answer like any failure, so what was made at other posts is undone
            raise HTTPException(502, f"station {station} answered something that is not a JSON object")
        return found


def _made_id(station: str, answer: dict[str, Any]) -> int:
    """The id of what a post made, from its answer; a 502 when the answer has none (what was made is undone)."""
    made = answer.get("id")
    if not isinstance(made, int) or isinstance(made, bool):
        raise HTTPException(502, f"station {station} answered without the id of what it made")
    return made
