"""How many events of each type each camera has had since the station process started (for `/metrics`)."""

from __future__ import annotations

import threading
from collections import Counter


class EventCounts:
    """Counted by the event writer's thread as events start; read whole by a scrape."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._counts: Counter[tuple[str, str]] = Counter()

    def add(self, camera: str, type_: str) -> None:
        with self._lock:
            self._counts[(camera, type_)] += 1

    def snapshot(self) -> dict[tuple[str, str], int]:
        """(camera, type) -> events started."""
        with self._lock:
            return dict(self._counts)
