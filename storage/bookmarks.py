"""Bookmarks: a moment on a camera with a note, put down while watching; a case can take one as an item.
Like the index, the store sees only its own station's bookmarks."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass

from sqlalchemy import ColumnElement, select
from sqlalchemy.orm import Session

from storage.clock import now_ms
from storage.index import RecordingIndex
from storage.models import BookmarkRow, CameraRow


@dataclass(frozen=True)
class Bookmark:
    id: int
    camera: str
    at_ms: int
    note: str
    created_ms: int
    created_by: str | None


class BookmarkStore:
    def __init__(self, index: RecordingIndex) -> None:
        self._index = index
        self._station = index.station

    def add(self, camera: str, at_ms: int, note: str, by: str | None) -> Bookmark:
        with self._index.session() as session, session.begin():
            row = BookmarkRow(station=self._station, camera_id=self._index.camera_id(camera), at_ms=at_ms, note=note,
                              created_ms=now_ms(), created_by=by)
            session.add(row)
            session.flush()
            return Bookmark(row.id, camera, row.at_ms, row.note, row.created_ms, row.created_by)

    def get(self, bookmark_id: int) -> Bookmark | None:
        found = self._fetch(BookmarkRow.id == bookmark_id, limit=1)
        return found[0] if found else None

    def query(self, cameras: Collection[str], start_ms: int, end_ms: int, limit: int) -> list[Bookmark]:
        """Bookmarks of `cameras` in [start_ms, end_ms), newest first."""
        return self._fetch(CameraRow.name.in_(list(cameras)), BookmarkRow.at_ms >= start_ms,
                           BookmarkRow.at_ms < end_ms, limit=limit)

    def update(self, bookmark_id: int, note: str) -> Bookmark | None:
        with self._index.session() as session, session.begin():
            row = self._row(session, bookmark_id)
            if row is None:
                return None
            row.note = note
        return self.get(bookmark_id)

    def delete(self, bookmark_id: int) -> bool:
        with self._index.session() as session, session.begin():
            row = self._row(session, bookmark_id)
            if row is None:
                return False
            session.delete(row)
            return True

    def _row(self, session: Session, bookmark_id: int) -> BookmarkRow | None:
        return session.scalar(select(BookmarkRow).where(BookmarkRow.station == self._station,
                                                        BookmarkRow.id == bookmark_id))

    def _fetch(self, *conditions: ColumnElement[bool], limit: int) -> list[Bookmark]:
        query = (select(BookmarkRow, CameraRow.name).join(CameraRow)
                 .where(BookmarkRow.station == self._station, *conditions)
                 .order_by(BookmarkRow.at_ms.desc(), BookmarkRow.id.desc()).limit(limit))
        with self._index.session() as session:
            return [Bookmark(row.id, name, row.at_ms, row.note, row.created_ms, row.created_by)
                    for row, name in session.execute(query).all()]
