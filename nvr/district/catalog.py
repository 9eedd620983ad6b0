"""What the district reads from the shared catalog: the posts' cameras and how much footage each keeps. It
only reads; each post migrates and writes its own rows."""

from __future__ import annotations

import json
from collections.abc import Collection
from dataclasses import dataclass

from sqlalchemy import Select, select, tuple_
from sqlalchemy.orm import Session

from storage.clock_steps import ClockSteps, stored_steps
from storage.events import Event, newest_first, overlapping, to_event
from storage.index import Outage, RecordingIndex, make_engine
from storage.models import CameraRow, EventRow, GrantRow, SegmentRow
from storage.schema import stored_revision

Place = tuple[str, str]  # (station, camera)


@dataclass(frozen=True)
class CatalogCamera:
    station: str
    name: str
    title: str


@dataclass(frozen=True)
class Footage:
    oldest_ms: int | None
    newest_ms: int | None  # the start of the newest segment: when the post last wrote to the catalog


@dataclass(frozen=True)
class EventQuery:
    """The filters of a post's event search, across stations; `places` None: every camera of `stations`."""

    stations: list[str]
    places: Collection[Place] | None
    types: list[str] | None
    start_ms: int
    end_ms: int
    limit: int
    acknowledged: bool | None


class DistrictCatalog:
    def __init__(self, url: str) -> None:
        self.url = url
        self.engine = make_engine(url)
        self._indexes: dict[str, RecordingIndex] = {}

    def close(self) -> None:
        self.engine.dispose()

    def schema_revision(self) -> str | None:
        """The catalog's migration revision (the posts migrate it; the district only reads it)."""
        return stored_revision(self.engine)

    def cameras(self, stations: list[str]) -> list[CatalogCamera]:
        """The recorded cameras of `stations`, by station, in the order they were added."""
        query = (select(CameraRow.station, CameraRow.name, CameraRow.settings)
                 .where(CameraRow.station.in_(stations), CameraRow.settings.is_not(None),
                        CameraRow.removed_ms.is_(None))
                 .order_by(CameraRow.station, CameraRow.id))
        with self.engine.connect() as connection:
            rows = connection.execute(query).all()
        return [CatalogCamera(station, name, json.loads(settings or "{}").get("title") or name)
                for station, name, settings in rows]

    def footage(self, stations: list[str]) -> dict[str, Footage]:
        """Each station's oldest and newest segment: two lookups per station on the (station, start) index,
        however many segments it has, sent as one query (one round trip, not two per post)."""
        ends = self._ends([select(SegmentRow.start_ms).where(SegmentRow.station == station) for station in stations])
        return dict(zip(stations, ends, strict=True))

    def cameras_footage(self, places: Collection[Place]) -> dict[str, Footage]:
        """Each station's oldest and newest segment among these cameras only (a viewer's grants: what it may know
        of a post): two lookups per camera on the (camera, start) index, sent as one query."""
        granted = list(places)
        ends = self._ends([select(SegmentRow.start_ms).join(CameraRow, CameraRow.id == SegmentRow.camera_id)
                           .where(CameraRow.station == station, CameraRow.name == name) for station, name in granted])
        by_station: dict[str, list[Footage]] = {}
        for (station, _name), camera in zip(granted, ends, strict=True):
            by_station.setdefault(station, []).append(camera)
        return {station: Footage(min((f.oldest_ms for f in found if f.oldest_ms is not None), default=None),
                                 max((f.newest_ms for f in found if f.newest_ms is not None), default=None))
                for station, found in by_station.items()}

    def _ends(self, starts: list[Select[int]]) -> list[Footage]:
        """The oldest and newest of each query's segment starts, all in one query: two lookups on an index each."""
        if not starts:
            return []
        ends = [query.order_by(order).limit(1).scalar_subquery() for query in starts
                for order in (SegmentRow.start_ms, SegmentRow.start_ms.desc())]
        with self.engine.connect() as connection:
            found = connection.execute(select(*ends)).one()
        return [Footage(found[2 * k], found[2 * k + 1]) for k in range(len(starts))]

    def has_camera(self, station: str, camera: str) -> bool:
        """Whether the station has (or had: removed cameras keep their footage) a camera of that name."""
        query = select(CameraRow.id).where(CameraRow.station == station, CameraRow.name == camera)
        with self.engine.connect() as connection:
            return connection.scalar(query.limit(1)) is not None

    def grants(self, user_id: int, stations: list[str]) -> frozenset[Place]:
        """The (station, camera) a viewer was granted: each post's `nvr user grant`, read across stations."""
        query = (select(CameraRow.station, CameraRow.name).join(GrantRow, GrantRow.camera_id == CameraRow.id)
                 .where(GrantRow.user_id == user_id, CameraRow.station.in_(stations)))
        with self.engine.connect() as connection:
            return frozenset((station, name) for station, name in connection.execute(query).all())

    def events(self, asked: EventQuery) -> list[tuple[str, Event]]:
        """(station, event) overlapping the window, newest first, as a post's `EventStore.query` finds them."""
        query = select(EventRow, CameraRow.name).join(CameraRow).where(EventRow.station.in_(asked.stations))
        if asked.places is not None:
            query = query.where(tuple_(CameraRow.station, CameraRow.name).in_(list(asked.places)))
        if asked.types is not None:
            query = query.where(EventRow.type.in_(asked.types))
        if asked.acknowledged is not None:
            query = query.where(EventRow.ack_ms.is_not(None) if asked.acknowledged else EventRow.ack_ms.is_(None))
        newest = (EventRow.start_ms.desc(), EventRow.id.desc())
        with Session(self.engine) as session:
            found = [(row.station, to_event(row, name)) for part in overlapping(asked.start_ms, asked.end_ms)
                     for row, name in session.execute(query.where(*part).order_by(*newest).limit(asked.limit)).all()]
        return newest_first(found, asked.limit, lambda item: item[1])

    def event(self, station: str, event_id: int) -> Event | None:
        query = (select(EventRow, CameraRow.name).join(CameraRow)
                 .where(EventRow.station == station, EventRow.id == event_id))
        with Session(self.engine) as session:
            found = session.execute(query).first()
        return to_event(found[0], found[1]) if found is not None else None

    def spans(self, station: str, camera: str, start_ms: int, end_ms: int) -> list[tuple[int, int]]:
        """A camera's continuous recordings in the window (call `has_camera` first: an unknown name would
        be added to the station's cameras)."""
        return self.index(station).spans(camera, start_ms, end_ms)

    def outages(self, station: str, camera: str, start_ms: int, end_ms: int) -> list[Outage]:
        return self.index(station).outages(camera, start_ms, end_ms)

    def clock_steps(self, station: str) -> ClockSteps:
        """The forward steps of a post's clock that its footage kept was stamped before."""
        with Session(self.engine) as session:
            return stored_steps(session, station)

    def index(self, station: str) -> RecordingIndex:
        """A station's view of the catalog on the district's one pool of connections."""
        found = self._indexes.get(station)
        if found is None:  # two threads may both make one: the same view, one is kept
            found = self._indexes.setdefault(station, RecordingIndex(self.url, station, migrate=False,
                                                                     engine=self.engine))
        return found

