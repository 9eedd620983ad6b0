"""Cases, the unit of evidence: a title, a note, a status and camera ranges (items). While a case is open its
items' footage is locked (storage/locks.py). Like the index, the store sees only its own station's cases."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Literal

from sqlalchemy import Select, delete, func, select, update
from sqlalchemy.orm import Session

from storage.clock import now_ms
from storage.index import RecordingIndex
from storage.locks import OPEN, case_change_turn
from storage.models import CameraRow, CaseFields, CaseItemRow, CaseRow, DistrictCasePostRow

log = logging.getLogger(__name__)
CaseStatus = Literal["open", "closed"]


@dataclass(frozen=True)
class NewItem:
    camera: str
    start_ms: int
    end_ms: int
    note: str = ""
    event_id: int | None = None
    bookmark_id: int | None = None
    follows_event: bool = False  # made of an event still going on, its end not typed (see `follow_event`)


@dataclass(frozen=True)
class CaseItem:
    id: int
    camera: str
    start_ms: int
    end_ms: int
    note: str
    event_id: int | None
    bookmark_id: int | None
    added_ms: int
    added_by: str | None


@dataclass(frozen=True)
class CaseHead:
    """What a case is besides its items: a station's or the district's (nvr/district/case_store.py)."""

    id: int
    title: str
    note: str
    status: CaseStatus
    created_ms: int
    created_by: str | None
    updated_ms: int


@dataclass(frozen=True)
class Case(CaseHead):
    items: tuple[CaseItem, ...]


class CaseHeld(Exception):
    """The case holds a district case's items (nvr/district/mirror.py): only the district changes it."""

    def __init__(self, case_id: int, district_case: int) -> None:
        super().__init__(f"case {case_id} holds the footage of district case #{district_case}: "
                         "it is changed at the district server")
        self.case_id, self.district_case = case_id, district_case


class CaseStore:
    def __init__(self, index: RecordingIndex) -> None:
        self._index = index
        self._station = index.station
        # called after a change to what open cases lock, with the earliest start of footage no longer locked (None
        # when only more is locked): retention judges again the footage it went past (storage/retention.py)
        self.locks_changed: Callable[[int | None], None] = lambda _unlocked_from: None

    def create(self, title: str, note: str, items: Iterable[NewItem], by: str | None) -> Case:
        now = now_ms()
        items = list(items)
        # the cameras' ids first: on SQLite the transaction below holds the database's write lock from its first
        # write, which adding a camera from another session would wait for
        cameras = {item.camera: self._index.camera_id(item.camera) for item in items}
        with self._index.session() as session, session.begin():
            case_change_turn(session)
            row = CaseRow(station=self._station, title=title, note=note, status=OPEN, created_ms=now, created_by=by,
                          updated_ms=now)
            session.add(row)
            session.flush()
            session.add_all([_item_row(row.id, item, cameras[item.camera], now, by) for item in items])
            case_id = row.id
        self.locks_changed(None)
        found = self.get(case_id)
        assert found is not None
        return found

    def get(self, case_id: int) -> Case | None:
        found = self._cases(select(CaseRow).where(CaseRow.station == self._station, CaseRow.id == case_id))
        return found[0] if found else None

    def held_for_district(self) -> dict[int, int]:
        """This station's cases that hold a district case's items (nvr/district/mirror.py): {case id: the
        district case's id}. Only the district changes them: closing one here would unlock footage it holds."""
        with self._index.session() as session:
            rows = session.execute(select(DistrictCasePostRow.post_case_id, DistrictCasePostRow.case_id)
                                   .where(DistrictCasePostRow.station == self._station)).all()
        return {row.post_case_id: row.case_id for row in rows}

    def all(self, status: CaseStatus | None = None) -> list[Case]:
        """Newest first."""
        query = select(CaseRow).where(CaseRow.station == self._station)
        if status is not None:
            query = query.where(CaseRow.status == status)
        return self._cases(query.order_by(CaseRow.id.desc()))

    def update(self, case_id: int, *, title: str | None = None, note: str | None = None,
               status: CaseStatus | None = None, machine: str | None = None) -> Case | None:
        """Change what is given; None when there is no such case. `machine`: see `_changeable`."""
        with self._index.session() as session, session.begin():
            if status == OPEN:
                case_change_turn(session)
            row = self._changeable(session, case_id, machine)
            if row is None:
                return None
            was_open = row.status == OPEN
            change_case_row(row, title, note, status)
            unlocked = _first_start(session, case_id) if was_open and status not in (None, OPEN) else None
        if status is not None and (status == OPEN) != was_open:
            self.locks_changed(unlocked)
        return self.get(case_id)

    def delete(self, case_id: int, machine: str | None = None) -> bool:
        with self._index.session() as session, session.begin():
            row = self._changeable(session, case_id, machine)
            if row is None:
                return False
            unlocked = _first_start(session, case_id) if row.status == OPEN else None
            session.execute(delete(CaseItemRow).where(CaseItemRow.case_id == case_id))
            session.delete(row)
        if unlocked is not None:
            self.locks_changed(unlocked)
        return True

    def add_item(self, case_id: int, item: NewItem, by: str | None, machine: str | None = None) -> CaseItem | None:
        """None when there is no such case."""
        now = now_ms()
        row = _item_row(case_id, item, self._index.camera_id(item.camera), now, by)  # its camera's id first: see create
        with self._index.session() as session, session.begin():
            case_change_turn(session)
            case = self._changeable(session, case_id, machine)
            if case is None:
                return None
            session.add(row)
            case.updated_ms = now
            session.flush()
            item_id = row.id
        self.locks_changed(None)
        found = self.get(case_id)
        assert found is not None
        return next(i for i in found.items if i.id == item_id)

    def follow_event(self, event_id: int, end_ms: int, longest_ms: int) -> int:
        """An event added to a case while it went on gave an item up to when it was added (an audit: a live alert in
        a case covered its first seconds). Once it has ended, such items of open cases whose end was not typed run
        to `end_ms` (its end and the post-roll), at most `longest_ms` each; each case changed as `_changeable` allows
        (not a district's, which is the district's to change). Returns how many."""
        following = (CaseItemRow.event_id == event_id, CaseItemRow.follows_event.is_(True))
        followed = 0
        with self._index.session() as session, session.begin():
            for case_id in session.scalars(select(CaseItemRow.case_id).where(*following).distinct()).all():
                try:
                    case = self._changeable(session, case_id, None)
                except CaseHeld:
                    continue
                if case is None or case.status != OPEN:
                    continue
                for row in session.scalars(select(CaseItemRow).where(CaseItemRow.case_id == case_id, *following)):
                    row.end_ms, row.follows_event = max(row.end_ms, min(end_ms, row.start_ms + longest_ms)), False
                    followed += 1
                case.updated_ms = now_ms()
        if followed:
            log.info("event %d ended: %d case items made of it while it went on now run to its end", event_id, followed)
            self.locks_changed(None)  # more is locked: the files noted unlocked for a catalog outage are noted again
        return followed

    def remove_item(self, case_id: int, item_id: int, machine: str | None = None) -> bool:
        with self._index.session() as session, session.begin():
            case = self._changeable(session, case_id, machine)
            if case is None:
                return False
            item = session.scalar(select(CaseItemRow).where(CaseItemRow.case_id == case_id, CaseItemRow.id == item_id))
            if item is None:
                return False
            unlocked = item.start_ms if case.status == OPEN else None
            session.delete(item)
            case.updated_ms = now_ms()
        if unlocked is not None:
            self.locks_changed(unlocked)
        return True

    def _changeable(self, session: Session, case_id: int, machine: str | None) -> CaseRow | None:
        """The case's row, locked for this transaction, when it may be changed; CaseHeld when it holds a district
        case's items and the change does not come from its creator's machine key (`machine`: the key's account
        name; None for a person). The district locks the row too when it holds it (DistrictCaseStore.hold): a
        change and a hold are one after the other, never a check before the hold and a change after it."""
        lock_case_row(session, self._station, case_id)
        row = session.scalar(select(CaseRow).where(CaseRow.station == self._station, CaseRow.id == case_id))
        if row is None:
            return None
        district_case = session.scalar(select(DistrictCasePostRow.case_id).where(
            DistrictCasePostRow.station == self._station, DistrictCasePostRow.post_case_id == case_id))
        if district_case is not None and (machine is None or machine != row.created_by):
            raise CaseHeld(case_id, district_case)
        return row

    def _cases(self, query: Select[CaseRow]) -> list[Case]:
        with self._index.session() as session:
            rows = session.scalars(query).all()
            items: dict[int, list[CaseItem]] = {row.id: [] for row in rows}
            found = session.execute(select(CaseItemRow, CameraRow.name).join(CameraRow)
                                    .where(CaseItemRow.case_id.in_(list(items)))
                                    .order_by(CaseItemRow.start_ms, CaseItemRow.id)).all()
        for item, camera in found:
            items[item.case_id].append(CaseItem(item.id, camera, item.start_ms, item.end_ms, item.note, item.event_id,
                                                item.bookmark_id, item.added_ms, item.added_by))
        return [Case(row.id, row.title, row.note, case_status(row.status), row.created_ms, row.created_by,
                     row.updated_ms, tuple(items[row.id])) for row in rows]


def _first_start(session: Session, case_id: int) -> int | None:
    """Where a case's footage begins (None: it has no items)."""
    return session.scalar(select(func.min(CaseItemRow.start_ms)).where(CaseItemRow.case_id == case_id))


def _item_row(case_id: int, item: NewItem, camera_id: int, now: int, by: str | None) -> CaseItemRow:
    return CaseItemRow(case_id=case_id, camera_id=camera_id, start_ms=item.start_ms, end_ms=item.end_ms, note=item.note,
                       event_id=item.event_id, bookmark_id=item.bookmark_id, added_ms=now, added_by=by,
                       follows_event=item.follows_event)


def lock_case_row(session: Session, station: str, case_id: int) -> None:
    """Lock a station's case row for the session's transaction, by a write that changes nothing: PostgreSQL locks the
    row (as SELECT ... FOR UPDATE would); SQLite, whose driver begins a transaction only at the first write, begins it
    here and holds the database's write lock from now on, so what the transaction reads next is read inside it."""
    session.execute(update(CaseRow).where(CaseRow.station == station, CaseRow.id == case_id)
                    .values(updated_ms=CaseRow.updated_ms))


def change_case_row(row: CaseFields, title: str | None, note: str | None, status: CaseStatus | None) -> None:
    """Set what is given (a station's case or the district's) and mark it changed."""
    for name, value in (("title", title), ("note", note), ("status", status)):
        if value is not None:
            setattr(row, name, value)
    row.updated_ms = now_ms()


def case_status(text: str) -> CaseStatus:
    return "open" if text == OPEN else "closed"
