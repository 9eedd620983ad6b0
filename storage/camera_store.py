"""The station's cameras in the catalog: settings (as JSON, validated by the caller), who manages each
camera, and which recorder process reads it. A removed camera keeps its row (and its footage until
retention). Adding the same name again makes a new camera of it, without the grants or the footage the old one
had: the name may be another camera's by then (a household's grant is given again, by an administrator who knows
whose it is). The old camera's footage, events, motion, bookmarks and case ranges go to a row of their own, named
`<name>~<row id>.<removed ms>` (a name no camera can take), still removed: cases keep locking and exporting it, and
`nvr clip` reads it by that name. Before, the name's new household could play the old camera's footage and events
(found in a review). The row keeps its id for the new camera, which every process has cached for the name."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session

from storage.index import RecordingIndex
from storage.models import (
    BookmarkRow,
    CameraPlaceRow,
    CameraRow,
    CaseItemRow,
    EventRow,
    GrantRow,
    MotionGridRow,
    OutageRow,
    SegmentRow,
)

MANAGERS = ("config", "catalog")  # config.yaml's list, or the API and the CLI
SET_ASIDE = "~"  # joins a removed camera's name and removal time, when its name is taken again: no camera name has it
NAME_KEPT = 32  # characters of the name kept in the set-aside row's
REMOVAL_NOTICED_MS = 3000  # a recorder stops a removed camera within this (it polls the catalog every 2 s)
HELD_FRAMES_MS = 7000  # a camera sending at connect the frames it held stamps its first pictures up to this early
# a removed camera's name is free again this long after the removal: rows are told apart by their time (before
# REMOVAL_NOTICED_MS after it: the old camera's), so the new camera's first pictures must come after that
NAME_FREE_AFTER_MS = REMOVAL_NOTICED_MS + HELD_FRAMES_MS
OWNED = (SegmentRow, OutageRow, EventRow, MotionGridRow, CaseItemRow, BookmarkRow,  # what a camera recorded,
         CameraPlaceRow)  # and where it stood meanwhile


@dataclass(frozen=True)
class StoredCamera:
    name: str
    settings: dict[str, Any]
    managed_by: str
    recorder: int | None
    removed: bool


class NameNotFreeYet(Exception):
    """A removed camera's name asked for again before NAME_FREE_AFTER_MS passed since its removal."""

    def __init__(self, name: str, removed_ago_ms: int) -> None:
        self.name = name
        self.wait_seconds = max(1, -(-(NAME_FREE_AFTER_MS - removed_ago_ms) // 1000))  # whole seconds, rounded up
        super().__init__(f"the camera {name!r} was removed {removed_ago_ms / 1000:.0f} s ago: its name can be "
                         f"taken again in {self.wait_seconds} s (until then what its recorder is still finishing "
                         "could not be told from the new camera's)")


def set_aside_from(candidate: str, name: str) -> bool:
    """Whether `candidate` names a camera set aside when `name` was taken again."""
    return candidate.startswith(name[:NAME_KEPT] + SET_ASIDE)


class CameraStore:
    def __init__(self, index: RecordingIndex) -> None:
        self._index = index
        self._station = index.station

    def all(self, *, removed: bool = False) -> list[StoredCamera]:
        """Every camera with settings, in the order they were first added (removed ones on request)."""
        query = select(CameraRow).where(CameraRow.station == self._station, CameraRow.settings.is_not(None))
        if not removed:
            query = query.where(CameraRow.removed_ms.is_(None))
        with self._index.session() as session:
            rows = session.scalars(query.order_by(CameraRow.id)).all()
            return [StoredCamera(row.name, json.loads(row.settings or "{}"), row.managed_by or "catalog",
                                 row.recorder, row.removed_ms is not None) for row in rows]

    def get(self, name: str) -> StoredCamera | None:
        return next((camera for camera in self.all(removed=True) if camera.name == name), None)

    def put(self, name: str, settings: dict[str, Any], managed_by: str, now_ms: int) -> None:
        """Add or change a camera (a removed one's name is taken again by a new camera); its recorder is kept.
        NameNotFreeYet within NAME_FREE_AFTER_MS of the name's removal."""
        assert managed_by in MANAGERS
        camera_id = self._index.camera_id(name)
        with self._index.session() as session, session.begin():
            row = session.get(CameraRow, camera_id)
            if row is not None and row.removed_ms is not None:
                if 0 <= now_ms - row.removed_ms < NAME_FREE_AFTER_MS:  # (a clock set back since: not waited for)
                    raise NameNotFreeYet(name, now_ms - row.removed_ms)
                self._set_aside(session, row, now_ms)
            session.execute(update(CameraRow).where(CameraRow.id == camera_id).values(
                settings=json.dumps(settings, sort_keys=True), managed_by=managed_by, updated_ms=now_ms,
                removed_ms=None))
            title, location = str(settings.get("title") or ""), str(settings.get("location") or "")
            if self._place(session, camera_id, None) != (title, location):
                session.add(CameraPlaceRow(camera_id=camera_id, since_ms=now_ms, title=title, location=location))

    def place(self, name: str, at_ms: int) -> tuple[str, str] | None:
        """(title, location) camera `name` had at `at_ms` (before its first known place, that one); None if it has
        none."""
        with self._index.session() as session:
            camera_id = session.scalar(select(CameraRow.id).where(CameraRow.station == self._station,
                                                                  CameraRow.name == name))
            if camera_id is None:
                return None
            return self._place(session, camera_id, at_ms)

    @staticmethod
    def _place(session: Session, camera_id: int, at_ms: int | None) -> tuple[str, str] | None:
        """The camera's place at `at_ms` (None: its newest); before its first, the first."""
        query = select(CameraPlaceRow.title, CameraPlaceRow.location).where(CameraPlaceRow.camera_id == camera_id)
        newest_first = query.order_by(CameraPlaceRow.since_ms.desc(), CameraPlaceRow.id.desc()).limit(1)
        found = session.execute(newest_first if at_ms is None else
                                newest_first.where(CameraPlaceRow.since_ms <= at_ms)).first()
        if found is None and at_ms is not None:
            found = session.execute(query.order_by(CameraPlaceRow.since_ms, CameraPlaceRow.id).limit(1)).first()
        return None if found is None else (found[0], found[1])

    def _set_aside(self, session: Session, row: CameraRow, now_ms: int) -> None:
        """Move what the removed camera `row` recorded to a removed row of its own. Its grants stay: any there is
        was given after the removal, for whoever takes the name next."""
        assert row.removed_ms is not None
        old = CameraRow(station=self._station, name=self._free_name(session, row), settings=row.settings,
                        managed_by=row.managed_by, updated_ms=now_ms, removed_ms=row.removed_ms)
        session.add(old)
        session.flush()
        for table in OWNED:
            session.execute(update(table).where(table.camera_id == row.id).values(camera_id=old.id))
        # what arrives later of the old camera's time goes there too: rows that began before its removal and the
        # recorder's noticing it (not before the name was taken: a camera that sends at connect the frames it held
        # stamps its first pictures seconds before it was added); and, through it, those of earlier takings
        old.set_aside_until_ms, old.set_aside_id = row.set_aside_until_ms, row.set_aside_id
        row.set_aside_until_ms, row.set_aside_id = row.removed_ms + REMOVAL_NOTICED_MS, old.id

    def _free_name(self, session: Session, row: CameraRow) -> str:
        """`<name>~<row id>.<removed ms>`, with a count after it if that is taken (the same row removed twice in a
        millisecond); at most 60 characters: long names that share their start do not meet."""
        base = f"{row.name[:NAME_KEPT]}{SET_ASIDE}{row.id}.{row.removed_ms}"
        taken = set(session.scalars(select(CameraRow.name).where(CameraRow.station == self._station,
                                                                 CameraRow.name.startswith(base))))
        return next(name for name in (base, *(f"{base}.{n}" for n in range(1, 100))) if name not in taken)

    def remove(self, name: str, now_ms: int) -> bool:
        """Stop recording `name` and withdraw its grants; False when there is no such camera."""
        with self._index.session() as session, session.begin():
            done = session.execute(update(CameraRow).where(
                CameraRow.station == self._station, CameraRow.name == name, CameraRow.settings.is_not(None),
                CameraRow.removed_ms.is_(None)).values(removed_ms=now_ms, updated_ms=now_ms))
            if not done.rowcount:  # type: ignore[attr-defined]
                return False
            removed = select(CameraRow.id).where(CameraRow.station == self._station, CameraRow.name == name)
            session.execute(delete(GrantRow).where(GrantRow.camera_id.in_(removed)))
            return True

    def assign(self, assignments: dict[str, int]) -> None:
        """Which recorder reads each camera."""
        with self._index.session() as session, session.begin():
            for name, recorder in assignments.items():
                session.execute(update(CameraRow).where(CameraRow.station == self._station, CameraRow.name == name)
                                .values(recorder=recorder))

    def version(self) -> tuple[int, int]:
        """Changes whenever a camera is added, changed or removed: cheap to poll."""
        with self._index.session() as session:
            found = session.execute(select(func.count(CameraRow.id), func.coalesce(func.max(CameraRow.updated_ms), 0))
                                    .where(CameraRow.station == self._station)).one()
            return int(found[0]), int(found[1] or 0)
