"""Detection events in the index: opened when something starts, updated while it lasts, closed at its end.

Like the index, the store sees only its own station's events.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Collection
from dataclasses import dataclass
from typing import TypeVar

from sqlalchemy import ColumnElement, Select, TextClause, delete, select, update

from detect.observation import Box, rounded
from storage.clock import now_ms
from storage.index import RecordingIndex
from storage.models import LONG_EVENT, LONG_EVENT_MS, CameraRow, EventRow

FEW_CAMERAS = 10  # see EventStore.query
Conditions = tuple[ColumnElement[bool] | TextClause, ...]
T = TypeVar("T")


@dataclass(frozen=True)
class Acknowledgement:
    """Who acknowledged an event, when, and what they noted."""

    by: str
    at_ms: int
    note: str


@dataclass(frozen=True)
class Event:
    id: int
    camera: str
    type: str
    start_ms: int
    end_ms: int | None
    score: float
    boxes: tuple[Box, ...]
    snapshot: str | None
    updated_ms: int
    ack: Acknowledgement | None


def to_event(row: EventRow, camera: str) -> Event:
    boxes = tuple(tuple(box) for box in json.loads(row.boxes))
    ack = Acknowledgement(row.ack_by or "", row.ack_ms, row.ack_note or "") if row.ack_ms is not None else None
    return Event(row.id, camera, row.type, row.start_ms, row.end_ms, row.score, boxes,
                 row.snapshot, row.updated_ms, ack)


def overlapping(start_ms: int, end_ms: int) -> tuple[Conditions, Conditions]:
    """The conditions for the events overlapping [start_ms, end_ms), in two parts with no event in both: those
    starting within the window or up to LONG_EVENT_MS before it, which an index of starts seeks (with no bound
    below, a query walked back through every older event: 7.8 s for the health page's tampering of 200 cameras
    over a month's catalog), and the longer ones that began before, few, from their partial index (the station's
    condition must go with them: it leads that index)."""
    ends = EventRow.end_ms.is_(None) | (EventRow.end_ms >= start_ms)
    earliest = start_ms - LONG_EVENT_MS
    return ((EventRow.start_ms >= earliest, EventRow.start_ms < end_ms, ends),
            (LONG_EVENT, EventRow.start_ms < earliest, ends))


def newest_first(found: list[T], limit: int, key: Callable[[T], Event]) -> list[T]:
    """The two parts' answers merged, as one query ordered by start and id, newest first, would give them."""
    return sorted(found, key=lambda item: (key(item).start_ms, key(item).id), reverse=True)[:limit]


class EventStore:
    def __init__(self, index: RecordingIndex) -> None:
        self._index = index
        self._ours = EventRow.station == index.station

    def open(self, camera: str, type_: str, start_ms: int, score: float, boxes: Collection[Box]) -> Event:
        camera_id = self._index.camera_at(camera, start_ms)  # an event that waited may be a removed camera's
        with self._index.session() as session, session.begin():
            row = EventRow(station=self._index.station, camera_id=camera_id, type=type_, start_ms=start_ms,
                           end_ms=None, score=score, boxes=json.dumps(rounded(boxes)), snapshot=None,
                           updated_ms=now_ms())
            session.add(row)
            session.flush()
            return to_event(row, camera)

    def update(self, event_id: int, *, end_ms: int | None = None, score: float | None = None,
               boxes: Collection[Box] | None = None, snapshot: str | None = None) -> Event:
        values: dict[str, object] = {"updated_ms": now_ms()}
        values.update({name: value for name, value in (("end_ms", end_ms), ("score", score), ("snapshot", snapshot))
                       if value is not None})
        if boxes is not None:
            values["boxes"] = json.dumps(rounded(boxes))
        with self._index.session() as session, session.begin():
            session.execute(update(EventRow).where(self._ours, EventRow.id == event_id).values(**values))
        found = self.get(event_id)
        assert found is not None
        return found

    def acknowledge(self, event_id: int, username: str, note: str) -> bool:
        """Mark the event acknowledged by `username` now; False when it already was (the first one stands)."""
        with self._index.session() as session, session.begin():
            done = session.execute(update(EventRow)
                                   .where(self._ours, EventRow.id == event_id, EventRow.ack_ms.is_(None))
                                   .values(ack_ms=now_ms(), ack_by=username, ack_note=note))
            return bool(done.rowcount)  # type: ignore[attr-defined]

    def get(self, event_id: int) -> Event | None:
        with self._index.session() as session:
            found = session.execute(select(EventRow, CameraRow.name).join(CameraRow)
                                    .where(self._ours, EventRow.id == event_id)).first()
            return to_event(*found) if found else None

    def query(self, *, cameras: Collection[str] | None, types: Collection[str] | None, start_ms: int, end_ms: int,
              limit: int, acknowledged: bool | None = None) -> list[Event]:
        """Events overlapping [start_ms, end_ms) of the given cameras and types (None: all), newest first;
        `acknowledged` True or False keeps only the events that are (or are not) acknowledged."""
        query = select(EventRow, CameraRow.name).join(CameraRow)
        if cameras is not None and len(cameras) <= FEW_CAMERAS:
            # by the ids of the station's cameras (which imply the station), so that the index (camera, start) is the
            # one to seek: by name, with the station's condition, SQLite walked the station's index back through every
            # older event to find a camera's (a day of one camera: 0.36 s at 400,000 events, 2.2 s at 1.9 million).
            # Not for many cameras: each one's index is then walked back to its first event (1.3 s for 200 against 0.3)
            query = query.where(EventRow.camera_id.in_(select(CameraRow.id).where(
                CameraRow.station == self._index.station, CameraRow.name.in_(list(cameras)))))
        else:
            query = query.where(self._ours)
            if cameras is not None:
                query = query.where(CameraRow.name.in_(list(cameras)))
        if types is not None:
            query = query.where(EventRow.type.in_(list(types)))
        if acknowledged is not None:
            query = query.where(EventRow.ack_ms.is_not(None) if acknowledged else EventRow.ack_ms.is_(None))
        newest = (EventRow.start_ms.desc(), EventRow.id.desc())
        recent, long = overlapping(start_ms, end_ms)
        found = (self._fetch(query.where(*recent).order_by(*newest).limit(limit)) +
                 self._fetch(query.where(self._ours, *long).order_by(*newest).limit(limit)))
        return newest_first(found, limit, lambda event: event)

    def open_events(self) -> list[Event]:
        """Events still going on (a screen that connects now must show them)."""
        return self._fetch(select(EventRow, CameraRow.name).join(CameraRow)
                           .where(self._ours, EventRow.end_ms.is_(None)).order_by(EventRow.id))

    def _fetch(self, query: Select[EventRow, str]) -> list[Event]:
        with self._index.session() as session:
            return [to_event(row, name) for row, name in session.execute(query).all()]

    def close_open(self, end_ms: int) -> None:
        """At startup: whatever was open ended when the previous run did (at the latest)."""
        with self._index.session() as session, session.begin():
            session.execute(update(EventRow).where(self._ours, EventRow.end_ms.is_(None))
                            .values(end_ms=end_ms, updated_ms=now_ms()))

    def delete_ended_before(self, before_ms: int, after_ms: int | None = None) -> list[str]:
        """Forget events that ended before `before_ms` (and after `after_ms`); returns their snapshots, to delete."""
        with self._index.session() as session, session.begin():
            old = self._ours & EventRow.end_ms.is_not(None) & (EventRow.end_ms < before_ms)
            if after_ms is not None:
                old &= EventRow.end_ms > after_ms
            snapshots = [s for s in session.scalars(select(EventRow.snapshot).where(old)) if s]
            session.execute(delete(EventRow).where(old))
            return snapshots

    def spans(self, start_ms: int, end_ms: int) -> list[tuple[str, int, int | None]]:
        """(camera, start, end) of the events overlapping [start_ms, end_ms): the footage retention keeps longer."""
        query = select(CameraRow.name, EventRow.start_ms, EventRow.end_ms).join(CameraRow).where(self._ours)
        with self._index.session() as session:
            return [(name, start, end) for part in overlapping(start_ms, end_ms)
                    for name, start, end in session.execute(query.where(*part)).all()]
