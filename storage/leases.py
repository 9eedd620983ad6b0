"""Segments in use by a reader (a clip being served): retention must not delete them meanwhile."""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Iterable, Iterator
from contextlib import contextmanager


class SegmentLeases:
    def __init__(self) -> None:
        self._held: Counter[str] = Counter()
        self._lock = threading.Lock()

    @contextmanager
    def hold(self, paths: Iterable[str]) -> Iterator[None]:
        paths = list(paths)
        with self._lock:
            self._held.update(paths)
        try:
            yield
        finally:
            with self._lock:
                self._held.subtract(paths)
                self._held += Counter()  # drop zero counts

    def is_held(self, path: str) -> bool:
        with self._lock:
            return self._held[path] > 0
