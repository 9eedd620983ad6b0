"""The district's cases in the shared catalog (tables `district_cases`, `district_case_items`,
`district_case_posts`, migration 0011): items of several posts, and per post the id of the case that mirrors
the district case there (design/district.md, "Cases across posts")."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import Engine, Select, delete, select
from sqlalchemy.orm import sessionmaker

from storage.cases import CaseHead, CaseStatus, case_status, change_case_row, lock_case_row
from storage.clock import now_ms
from storage.locks import OPEN
from storage.models import DistrictCaseItemRow, DistrictCasePostRow, DistrictCaseRow


@dataclass(frozen=True)
class PostItem:
    """An item as the post's mirror case holds it: its range at one post, and its id there."""

    station: str
    camera: str
    start_ms: int
    end_ms: int
    note: str
    post_item_id: int


@dataclass(frozen=True)
class DistrictItem:
    id: int
    station: str
    camera: str
    start_ms: int
    end_ms: int
    note: str
    added_ms: int
    added_by: str | None
    post_item_id: int


@dataclass(frozen=True)
class DistrictCase(CaseHead):
    items: tuple[DistrictItem, ...]
    mirrors: dict[str, int]  # station -> the id of its mirror case

    def stations(self) -> list[str]:
        """The posts holding items, by id."""
        return sorted({item.station for item in self.items})


class DistrictCaseStore:
    def __init__(self, engine: Engine) -> None:
        self._sessions = sessionmaker(engine, expire_on_commit=False)

    def create(self, title: str, note: str, by: str | None) -> DistrictCase:
        """An open case without items (they are added once their posts hold them)."""
        now = now_ms()
        with self._sessions() as session, session.begin():
            row = DistrictCaseRow(title=title, note=note, status=OPEN, created_ms=now, created_by=by, updated_ms=now)
            session.add(row)
            session.flush()
            case_id = row.id
        found = self.get(case_id)
        assert found is not None
        return found

    def get(self, case_id: int) -> DistrictCase | None:
        found = self._cases(select(DistrictCaseRow).where(DistrictCaseRow.id == case_id))
        return found[0] if found else None

    def all(self, status: CaseStatus | None = None) -> list[DistrictCase]:
        """Newest first."""
        query = select(DistrictCaseRow)
        if status is not None:
            query = query.where(DistrictCaseRow.status == status)
        return self._cases(query.order_by(DistrictCaseRow.id.desc()))

    def update(self, case_id: int, *, title: str | None = None, note: str | None = None,
               status: CaseStatus | None = None) -> DistrictCase | None:
        with self._sessions() as session, session.begin():
            row = session.get(DistrictCaseRow, case_id)
            if row is None:
                return None
            change_case_row(row, title, note, status)
        return self.get(case_id)

    def delete(self, case_id: int) -> bool:
        with self._sessions() as session, session.begin():
            row = session.get(DistrictCaseRow, case_id)
            if row is None:
                return False
            for table in (DistrictCaseItemRow, DistrictCasePostRow):
                session.execute(delete(table).where(table.case_id == case_id))
            session.delete(row)
            return True

    def hold(self, case_id: int, station: str, post_case_id: int) -> None:
        """`station`'s case `post_case_id` mirrors this case: from now on the post lets only the district change it
        (storage.cases.CaseStore.held_for_district). Written as soon as the mirror is made, before it holds any
        footage, so that no officer at the post can close it between the two. The post's case row is locked first,
        as the post locks it to change the case (storage.cases.CaseStore._changeable): an officer's change made
        meanwhile is either done before the hold (and the mirror's status then set back) or refused after it."""
        with self._sessions() as session, session.begin():
            lock_case_row(session, station, post_case_id)
            session.add(DistrictCasePostRow(case_id=case_id, station=station, post_case_id=post_case_id))

    def release(self, case_id: int, station: str) -> None:
        """The mirror at `station` is gone (a refused change taken back)."""
        with self._sessions() as session, session.begin():
            session.execute(delete(DistrictCasePostRow).where(DistrictCasePostRow.case_id == case_id,
                                                              DistrictCasePostRow.station == station))

    def add_items(self, case_id: int, items: Iterable[PostItem], by: str | None) -> list[DistrictItem]:
        """Items the posts already hold (in mirrors already held); [] when there is no such case."""
        now = now_ms()
        with self._sessions() as session, session.begin():
            case = session.get(DistrictCaseRow, case_id)
            if case is None:
                return []
            rows = [DistrictCaseItemRow(case_id=case_id, station=i.station, camera=i.camera, start_ms=i.start_ms,
                                        end_ms=i.end_ms, note=i.note, added_ms=now, added_by=by,
                                        post_item_id=i.post_item_id) for i in items]
            session.add_all(rows)
            case.updated_ms = now
            session.flush()
            return [_item(row) for row in rows]

    def remove_item(self, case_id: int, item_id: int) -> bool:
        with self._sessions() as session, session.begin():
            case = session.get(DistrictCaseRow, case_id)
            item = session.scalar(select(DistrictCaseItemRow).where(DistrictCaseItemRow.case_id == case_id,
                                                                    DistrictCaseItemRow.id == item_id))
            if case is None or item is None:
                return False
            session.delete(item)
            case.updated_ms = now_ms()
            return True

    def _cases(self, query: Select[DistrictCaseRow]) -> list[DistrictCase]:
        with self._sessions() as session:
            rows = session.scalars(query).all()
            ids = [row.id for row in rows]
            items: dict[int, list[DistrictItem]] = {case_id: [] for case_id in ids}
            mirrors: dict[int, dict[str, int]] = {case_id: {} for case_id in ids}
            for item in session.scalars(select(DistrictCaseItemRow).where(DistrictCaseItemRow.case_id.in_(ids))
                                        .order_by(DistrictCaseItemRow.start_ms, DistrictCaseItemRow.id)):
                items[item.case_id].append(_item(item))
            for mirror in session.scalars(select(DistrictCasePostRow).where(DistrictCasePostRow.case_id.in_(ids))):
                mirrors[mirror.case_id][mirror.station] = mirror.post_case_id
        return [DistrictCase(row.id, row.title, row.note, case_status(row.status), row.created_ms,
                             row.created_by, row.updated_ms, tuple(items[row.id]), mirrors[row.id]) for row in rows]


def _item(row: DistrictCaseItemRow) -> DistrictItem:
    return DistrictItem(row.id, row.station, row.camera, row.start_ms, row.end_ms, row.note, row.added_ms,
                        row.added_by, row.post_item_id)
