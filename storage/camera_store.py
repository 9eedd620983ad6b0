"""The station's cameras in the catalog: settings (as JSON, validated by the caller), who manages each
camera, and which recorder process reads it. A removed camera keeps its row (and its footage until
retention); adding the same name again brings it back, without the grants it had: the name may be another camera's
by then (a household's grant is given again, by an administrator who knows whose it is)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, func, select, update

from storage.index import RecordingIndex
from storage.models import CameraRow, GrantRow

MANAGERS = ("config", "catalog")  # config.yaml's list, or the API and the CLI


@dataclass(frozen=True)
class StoredCamera:
    name: str
    settings: dict[str, Any]
    managed_by: str
    recorder: int | None
    removed: bool


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
        """Add or change a camera (a removed one comes back); its recorder is kept."""
        assert managed_by in MANAGERS
        camera_id = self._index.camera_id(name)
        with self._index.session() as session, session.begin():
            session.execute(update(CameraRow).where(CameraRow.id == camera_id).values(
                settings=json.dumps(settings, sort_keys=True), managed_by=managed_by, updated_ms=now_ms,
                removed_ms=None))

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
