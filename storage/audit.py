"""The audit log: who did what to which camera, when and from where; each station keeps its own."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select

from storage.clock import now_ms
from storage.index import RecordingIndex
from storage.models import AuditRow


@dataclass(frozen=True)
class AuditEntry:
    at_ms: int
    username: str | None
    action: str
    camera: str | None
    detail: str
    remote: str | None


class AuditLog:
    def __init__(self, index: RecordingIndex) -> None:
        self._index = index

    def record(self, action: str, *, username: str | None, camera: str | None = None, detail: str = "",
               remote: str | None = None) -> None:
        with self._index.session() as session, session.begin():
            session.add(AuditRow(station=self._index.station, at_ms=now_ms(), username=username,
                                 action=action, camera=camera, detail=detail, remote=remote))

    def entries(self, *, start_ms: int, end_ms: int, username: str | None = None, action: str | None = None,
                camera: str | None = None, limit: int = 1000) -> list[AuditEntry]:
        """Newest first."""
        query = select(AuditRow).where(AuditRow.station == self._index.station, AuditRow.at_ms >= start_ms,
                                       AuditRow.at_ms < end_ms)
        for column, value in ((AuditRow.username, username), (AuditRow.action, action), (AuditRow.camera, camera)):
            if value is not None:
                query = query.where(column == value)
        with self._index.session() as session:
            rows = session.scalars(query.order_by(AuditRow.at_ms.desc(), AuditRow.id.desc()).limit(limit)).all()
            return [AuditEntry(r.at_ms, r.username, r.action, r.camera, r.detail, r.remote) for r in rows]
