"""The recording index: cameras, finished segments and outages, on SQLite (WAL) or PostgreSQL.

An index belongs to one station: it sees, changes and deletes only that station's rows, so boxes
sharing one PostgreSQL never touch each other's footage.
"""

from __future__ import annotations

import itertools
import json
import sqlite3
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import ColumnElement, and_, create_engine, delete, event, func, or_, select, update
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from storage.locks import footage_deletion_turn, locked_rows, locked_segment
from storage.models import CameraRow, OutageRow, SegmentRow
from storage.schema import upgrade

CONNECT_TIMEOUT_SECONDS = 10  # to a PostgreSQL server
WAL_SWITCH_SECONDS = 10  # as long as SQLite's busy timeout
JOIN_TOLERANCE_MS = 1500  # segments closer than this are one continuous recording
OVERLAP_MARGIN_MS = 3_600_000  # the longest segment `storage.segment_seconds` allows
STREAMED_ROWS = 10_000  # rows fetched at a time by the queries that walk a whole catalog
DELETED_AT_ONCE = 5000  # rows deleted in one statement (SQLite's bound parameters: 32,766 at most)
IN_CHUNK = 1000  # values in one IN (...) list


@dataclass(frozen=True)
class Segment:
    camera: str
    path: str  # relative to the segments directory
    start_ms: int
    end_ms: int
    bytes: int
    keyframes_ms: tuple[int, ...] = field(default=(0,))  # offsets from start_ms
    id: int | None = None
    sha256: str | None = None  # of the file as written; None: recorded before hashes were kept

    def keyframe_offset(self, at_ms: int) -> int:
        """The offset of the keyframe at or before `at_ms` (the first keyframe when `at_ms` precedes them all)."""
        earlier = [k for k in self.keyframes_ms if self.start_ms + k <= at_ms]
        return max(earlier) if earlier else min(self.keyframes_ms, default=0)


@dataclass(frozen=True)
class Outage:
    camera: str
    start_ms: int
    end_ms: int | None
    reason: str


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    _enter_wal(cursor)
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.close()


def _enter_wal(cursor: Any) -> None:
    """Switch a database file to WAL. Turning a new file to WAL needs it alone for a moment, and SQLite answers
    "database is locked" at once, without its busy wait, when another connection (a box starting beside this
    one) is doing the same: try again for as long as the busy timeout would have waited."""
    deadline = time.monotonic() + WAL_SWITCH_SECONDS
    while True:
        try:
            cursor.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() > deadline:
                raise
            time.sleep(0.05)


def make_engine(url: str) -> Engine:
    """An engine for `url`; SQLite gets WAL mode and a busy timeout, its folder is created."""
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 10})
        database = engine.url.database
        if database and database != ":memory:":
            Path(database).parent.mkdir(parents=True, exist_ok=True)
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    # a catalog across a network: an address gone silent answers nothing, and the kernel's connect would wait
    # for minutes
    return create_engine(url, pool_pre_ping=True, pool_size=5, max_overflow=10,
                         connect_args={"connect_timeout": CONNECT_TIMEOUT_SECONDS})


def _overlapping(camera_id: int, start_ms: int, end_ms: int) -> tuple[ColumnElement[bool], ...]:
    """The conditions for a camera's segments overlapping [start_ms, end_ms). The index (camera_id, start_ms)
    bounds a range by the start alone, so `end_ms > start_ms` by itself would read every segment since the
    camera's first (a month of a camera is 43,200 rows: a camera-day took 0.3-1 s at 50 million rows). A
    camera's segments follow one another, so none that starts before the last one starting at or before the
    window reaches into it; OVERLAP_MARGIN_MS more keeps any that overlapped their successor (an index probe
    and about an hour of rows)."""
    latest_before = (select(func.max(SegmentRow.start_ms))
                     .where(SegmentRow.camera_id == camera_id, SegmentRow.start_ms <= start_ms).scalar_subquery())
    return (SegmentRow.camera_id == camera_id,
            SegmentRow.start_ms >= func.coalesce(latest_before, start_ms) - OVERLAP_MARGIN_MS,
            SegmentRow.start_ms < end_ms, SegmentRow.end_ms > start_ms)


def _to_segment(row: SegmentRow, camera: str) -> Segment:
    return Segment(camera, row.path, row.start_ms, row.end_ms, row.bytes,
                   tuple(json.loads(row.keyframes_ms)), row.id, row.sha256)


class RecordingIndex:
    """Thread-safe access to one station's index; every method is one short transaction.

    Opening it brings the schema to the newest revision (under the migration lock) unless `migrate` is false,
    which connects to nothing yet (a recorder started while the catalog is away).
    """

    def __init__(self, url: str, station: str, *, migrate: bool = True, engine: Engine | None = None) -> None:
        """`engine`: share another's connections (the district reads many stations' rows) instead of a pool of
        its own for `url`; it is then the other's to dispose of."""
        self.station = station
        self.engine = engine or make_engine(url)
        if migrate:
            upgrade(self.engine, station)
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)
        self._camera_ids: dict[str, int] = {}
        self._lock = threading.Lock()

    def close(self) -> None:
        self.engine.dispose()

    def session(self) -> Session:
        """A new ORM session on the index (for the other stores that share its database)."""
        return self._sessions()

    def camera_id(self, name: str) -> int:
        with self._lock:
            if name in self._camera_ids:
                return self._camera_ids[name]
        try:
            found = self._find_or_add_camera(name)
        except IntegrityError:  # another process added it between our look and our insert
            found = self._find_or_add_camera(name)
        with self._lock:
            self._camera_ids[name] = found
        return found

    def _find_or_add_camera(self, name: str) -> int:
        with self.session() as session, session.begin():
            found = session.scalar(select(CameraRow.id).where(CameraRow.station == self.station,
                                                              CameraRow.name == name))
            if found is None:
                row = CameraRow(station=self.station, name=name)
                session.add(row)
                session.flush()
                found = row.id
            return found

    def placement(self, names: list[str]) -> dict[str, Callable[[int], int]]:
        """For each of `names`, the camera row that recorded under it at a time (`camera_at`)."""
        with self.session() as session:
            return self._placed(session, names)

    def camera_at(self, name: str, at_ms: int) -> int:
        """The camera row that recorded under `name` at `at_ms`: the camera's own, or the one a removed camera's
        footage was set aside to when the name was taken again, for times before that removal
        (storage/camera_store.py). A row reaching the catalog
        late (a recorder's journal, an event waiting for the catalog) goes where its time says, not its name."""
        with self.session() as session:
            return self._placed(session, [name])[name](at_ms)

    def _placed(self, session: Session, names: list[str]) -> dict[str, Callable[[int], int]]:
        ids = {name: self.camera_id(name) for name in set(names)}
        links = {row.id: (row.set_aside_until_ms, row.set_aside_id) for row in session.execute(
            select(CameraRow.id, CameraRow.set_aside_until_ms, CameraRow.set_aside_id)
            .where(CameraRow.station == self.station, CameraRow.set_aside_id.is_not(None)))}

        def placed(camera_id: int) -> Callable[[int], int]:
            def at(at_ms: int) -> int:
                found = camera_id
                for _step in range(len(links) + 1):  # a name taken again several times: a chain back in time
                    until_ms, aside_id = links.get(found, (None, None))
                    if until_ms is None or aside_id is None or at_ms >= until_ms:
                        break
                    found = aside_id
                return found

            return at

        return {name: placed(camera_id) for name, camera_id in ids.items()}

    def add_segment(self, segment: Segment) -> int:
        with self.session() as session, session.begin():
            [row] = self._segment_rows(session, [segment])
            session.add(row)
            session.flush()
            return row.id

    def add_segments(self, segments: list[Segment]) -> None:
        """Several segments in one transaction (all or none)."""
        with self.session() as session, session.begin():
            session.add_all(self._segment_rows(session, segments))

    def add_new_segments(self, segments: list[Segment]) -> int:
        """Add, in one transaction, those of `segments` whose path this station has not indexed yet; how many
        were new. So a journal replayed again, or a batch whose commit went through unanswered, adds nothing
        twice (reconciliation may also have indexed a file first)."""
        first: dict[str, Segment] = {}
        for segment in segments:
            first.setdefault(segment.path, segment)
        with self.session() as session, session.begin():
            known = self._indexed(session, list(first))
            new = [segment for path, segment in first.items() if path not in known]
            session.add_all(self._segment_rows(session, new))
        return len(new)

    def indexed(self, paths: list[str]) -> set[str]:
        """Which of `paths` this station has indexed (under any camera)."""
        with self.session() as session:
            return self._indexed(session, paths)

    def _indexed(self, session: Session, paths: list[str]) -> set[str]:
        found: set[str] = set()
        for first in range(0, len(paths), IN_CHUNK):  # SQLite takes at most 32,766 values in one statement
            found.update(session.scalars(select(SegmentRow.path).where(
                SegmentRow.station == self.station, SegmentRow.path.in_(paths[first:first + IN_CHUNK]))))
        return found

    def _segment_rows(self, session: Session, segments: list[Segment]) -> list[SegmentRow]:
        placed = self._placed(session, [segment.camera for segment in segments])
        return [SegmentRow(station=self.station, camera_id=placed[segment.camera](segment.start_ms), path=segment.path,
                           start_ms=segment.start_ms, end_ms=segment.end_ms, bytes=segment.bytes,
                           keyframes_ms=json.dumps(list(segment.keyframes_ms)), sha256=segment.sha256)
                for segment in segments]

    def segments(self, camera: str, start_ms: int, end_ms: int) -> list[Segment]:
        """Segments of `camera` overlapping [start_ms, end_ms), in time order."""
        with self.session() as session:
            rows = session.scalars(
                select(SegmentRow).where(*_overlapping(self.camera_id(camera), start_ms, end_ms))
                .order_by(SegmentRow.start_ms)
            ).all()
            return [_to_segment(row, camera) for row in rows]

    def spans(self, camera: str, start_ms: int, end_ms: int) -> list[tuple[int, int]]:
        """(start, end) of the continuous recordings overlapping the window, in time order: segments less than
        JOIN_TOLERANCE_MS apart are one. The database finds where recordings begin (one window function, on
        SQLite and PostgreSQL), so a week of a camera's one-minute segments is a few rows, not 10,000 rows
        for Python to merge (4 times faster with 64 cameras, benchmarks/metrics.py)."""
        overlapping = _overlapping(self.camera_id(camera), start_ms, end_ms)
        ended_before = func.max(SegmentRow.end_ms).over(order_by=SegmentRow.start_ms, rows=(None, -1))
        segments = select(SegmentRow.start_ms, ended_before.label("ended_before")).where(*overlapping).subquery()
        opening = (segments.c.ended_before.is_(None) |
                   (segments.c.start_ms - segments.c.ended_before > JOIN_TOLERANCE_MS))
        with self.session() as session:
            starts = session.execute(select(segments.c.start_ms, segments.c.ended_before).where(opening)
                                     .order_by(segments.c.start_ms)).all()
            if not starts:
                return []
            last_end = session.scalar(select(func.max(SegmentRow.end_ms)).where(*overlapping))
        ends = [ended_before for _start, ended_before in starts[1:]] + [last_end]  # a recording ends before the next
        return [(start, end) for (start, _ended_before), end in zip(starts, ends, strict=True)]

    def oldest_segments(self, limit: int, *, before_ms: int | None = None, unlocked: bool = False,
                        ended_after_ms: int | None = None, following: tuple[int, int] | None = None) -> list[Segment]:
        """The oldest segments of all cameras, by start and id (optionally only those ending by `before_ms`, or
        after `ended_after_ms`, only those no open case locks, or only those after the (start, id) `following`: the
        next page of a walk through them)."""
        with self.session() as session:
            query = (select(SegmentRow, CameraRow.name).join(CameraRow).where(SegmentRow.station == self.station)
                     .order_by(SegmentRow.start_ms, SegmentRow.id).limit(limit))
            # each bound also on start_ms alone, which the index (station, start_ms) can seek to: with only the OR and
            # the end, every page was a scan from the oldest row (2.2 million rows kept near events, a page 1 s)
            if before_ms is not None:
                query = query.where(SegmentRow.end_ms <= before_ms, SegmentRow.start_ms < before_ms)
            if ended_after_ms is not None:
                query = query.where(SegmentRow.end_ms > ended_after_ms)
            if following is not None:
                start, segment_id = following
                query = query.where(SegmentRow.start_ms >= start,
                                    or_(SegmentRow.start_ms > start,
                                        and_(SegmentRow.start_ms == start, SegmentRow.id > segment_id)))
            if unlocked:
                query = query.where(~locked_segment())
            return [_to_segment(row, name) for row, name in session.execute(query).all()]

    def oldest_unlocked_files(self, limit: int, *, ended_after_ms: int | None = None,
                              before_ms: int | None = None) -> list[tuple[int, int, str, int]]:
        """(start, id, path, bytes) of the oldest segments no open case locks (optionally only those ending after
        `ended_after_ms` and by `before_ms`), oldest first: what retention may evict while the catalog is away
        (storage/retention.py)."""
        with self.session() as session:
            query = (select(SegmentRow.start_ms, SegmentRow.id, SegmentRow.path, SegmentRow.bytes)
                     .where(SegmentRow.station == self.station, ~locked_segment())
                     .order_by(SegmentRow.start_ms, SegmentRow.id).limit(limit))
            if ended_after_ms is not None:
                query = query.where(SegmentRow.end_ms > ended_after_ms)
            if before_ms is not None:
                query = query.where(SegmentRow.end_ms <= before_ms)
            return [(start, row_id, path, size) for start, row_id, path, size in session.execute(query).all()]

    def all_segments(self, cameras: set[str] | None = None) -> Iterator[Segment]:
        """Every segment of this station, or of `cameras` only."""
        with self.session() as session:
            query = (select(SegmentRow, CameraRow.name).join(CameraRow).where(SegmentRow.station == self.station)
                     .order_by(SegmentRow.id))
            if cameras is not None:
                query = query.where(CameraRow.name.in_(sorted(cameras)))
            for row, name in session.execute(query.execution_options(yield_per=STREAMED_ROWS)):
                yield _to_segment(row, name)

    def segment_paths(self, cameras: set[str] | None = None,
                      excluding: frozenset[str] = frozenset()) -> Iterator[tuple[str, list[tuple[int, str]]]]:
        """Each camera of this station (or of `cameras` only, and never of those `excluding`) with the (id, path) of its
        segments in time order, a camera at a time: a catalog of millions of rows is never all in memory (a month of a
        camera is 43,200 rows), and no reading cursor stays open between two lists, so the caller may write
        meanwhile."""
        query = select(CameraRow.id, CameraRow.name).where(CameraRow.station == self.station).order_by(CameraRow.id)
        if cameras is not None:
            query = query.where(CameraRow.name.in_(sorted(cameras)))
        if excluding:
            query = query.where(CameraRow.name.not_in(sorted(excluding)))
        with self.session() as session:
            found = [(camera_id, name) for camera_id, name in session.execute(query)]
        for camera_id, name in found:
            with self.session() as session:
                yield name, [(row_id, path) for row_id, path in session.execute(
                    select(SegmentRow.id, SegmentRow.path).where(SegmentRow.camera_id == camera_id)
                    .order_by(SegmentRow.start_ms)).all()]

    def delete_segments(self, segment_ids: Iterable[int]) -> None:
        """Delete these rows of this station's, DELETED_AT_ONCE to a statement and a transaction (one at a time, a
        post's month of rows whose files a new disk no longer has took over an hour to drop), taking the ids as they
        come: only a batch of them is ever a list."""
        ids = iter(segment_ids)
        while batch := list(itertools.islice(ids, DELETED_AT_ONCE)):
            with self.session() as session, session.begin():
                session.execute(delete(SegmentRow).where(SegmentRow.station == self.station, SegmentRow.id.in_(batch)))

    def delete_segment(self, segment_id: int, *, unless_locked: bool = False) -> bool:
        """Delete a segment's row; False when none went (gone already, or `unless_locked` and an open case locks it:
        asked in the same statement, after any change to cases under way: storage/locks.py)."""
        query = delete(SegmentRow).where(SegmentRow.id == segment_id, SegmentRow.station == self.station)
        if unless_locked:
            query = query.where(~locked_segment())
        with self.session() as session, session.begin():
            if unless_locked:
                footage_deletion_turn(session)
            return bool(session.execute(query).rowcount)  # type: ignore[attr-defined]

    def locked_paths(self) -> set[str]:
        """The paths of this station's segments that open cases lock now."""
        query = select(SegmentRow.path).where(SegmentRow.station == self.station, locked_segment())
        with self.session() as session:
            return set(session.scalars(query))

    def is_locked(self, segment_id: int) -> bool:
        """Whether an open case locks the segment now."""
        query = select(SegmentRow.id).where(SegmentRow.id == segment_id, SegmentRow.station == self.station,
                                            locked_segment())
        with self.session() as session:
            return session.scalar(query) is not None

    def total_bytes(self, *, locked: bool = False, unlocked: bool = False) -> int:
        """Bytes of this station's footage (`locked`: only what open cases lock; `unlocked`: only the rest)."""
        held = locked_rows(self.station).subquery()  # from the open cases' items: a lock test of every row took 40 s
        with self.session() as session:
            held_bytes = int(session.scalar(select(func.coalesce(func.sum(held.c.bytes), 0))) or 0)
            if locked and not unlocked:
                return held_bytes
            # by the station's cameras, so that the sizes come from the index (camera, span) and not the rows
            query = select(func.coalesce(func.sum(SegmentRow.bytes), 0)).where(
                SegmentRow.camera_id.in_(select(CameraRow.id).where(CameraRow.station == self.station)))
            every = int(session.scalar(query) or 0)
        return every - held_bytes if unlocked and not locked else every

    def open_outage(self, camera: str, start_ms: int, reason: str) -> None:
        """Record that `camera` stopped recording; an outage already open keeps its start and first reason, and
        one that began at `start_ms` is not opened again (a journal replayed twice)."""
        camera_id = self.camera_at(camera, start_ms)
        with self.session() as session, session.begin():
            current = session.scalar(select(OutageRow.id).where(
                OutageRow.camera_id == camera_id, OutageRow.end_ms.is_(None) | (OutageRow.start_ms == start_ms))
                .limit(1))
            if current is None:
                session.add(OutageRow(station=self.station, camera_id=camera_id, start_ms=start_ms, end_ms=None,
                                      reason=reason))

    def close_outages(self, end_ms: int, camera: str | None = None) -> None:
        """End the open outage of `camera` (or of every camera of this station, at startup) if it began by
        `end_ms`: a journal replayed again does not end a later outage with an earlier end."""
        query = (update(OutageRow).where(OutageRow.station == self.station, OutageRow.end_ms.is_(None),
                                         OutageRow.start_ms <= end_ms)
                 .values(end_ms=end_ms))
        if camera is not None:  # an end that waited for the catalog: its camera by its time
            query = query.where(OutageRow.camera_id == self.camera_at(camera, end_ms))
        with self.session() as session, session.begin():
            session.execute(query)

    def outages(self, camera: str, start_ms: int, end_ms: int) -> list[Outage]:
        camera_id = self.camera_id(camera)
        with self.session() as session:
            rows = session.scalars(
                select(OutageRow)
                .where(OutageRow.camera_id == camera_id, OutageRow.start_ms < end_ms,
                       (OutageRow.end_ms.is_(None)) | (OutageRow.end_ms > start_ms))
                .order_by(OutageRow.start_ms)
            ).all()
            return [Outage(camera, r.start_ms, r.end_ms, r.reason) for r in rows]
