"""What the district reads from the shared catalog: the posts' cameras and how much footage each keeps. It
only reads; each post migrates and writes its own rows."""

from __future__ import annotations

import json
from dataclasses import dataclass

from sqlalchemy import select

from storage.index import make_engine
from storage.models import CameraRow, SegmentRow


@dataclass(frozen=True)
class CatalogCamera:
    station: str
    name: str
    title: str


@dataclass(frozen=True)
class Footage:
    oldest_ms: int | None
    newest_ms: int | None  # the start of the newest segment: when the post last wrote to the catalog


class DistrictCatalog:
    def __init__(self, url: str) -> None:
        self.engine = make_engine(url)

    def close(self) -> None:
        self.engine.dispose()

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

    def footage(self, station: str) -> Footage:
        """Two lookups on the (station, start) index, however many segments the post has."""
        first = select(SegmentRow.start_ms).where(SegmentRow.station == station)
        with self.engine.connect() as connection:
            oldest = connection.scalar(first.order_by(SegmentRow.start_ms).limit(1))
            newest = connection.scalar(first.order_by(SegmentRow.start_ms.desc()).limit(1))
        return Footage(oldest, newest)
