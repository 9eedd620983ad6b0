"""Retention: delete the oldest recordings first, by age and by disk quota (index row first, file second)."""

from __future__ import annotations

import logging
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from storage.index import RecordingIndex, Segment
from storage.leases import SegmentLeases

log = logging.getLogger(__name__)
BATCH = 200


@dataclass(frozen=True)
class RetentionPolicy:
    max_age_ms: int
    max_bytes: int | None
    min_free_bytes: int


class Retention:
    def __init__(self, index: RecordingIndex, segments_dir: Path, policy: RetentionPolicy,
                 leases: SegmentLeases, free_bytes: Callable[[], int] | None = None) -> None:
        self._index = index
        self._dir = segments_dir
        self._policy = policy
        self._leases = leases
        self._free_bytes = free_bytes or (lambda: shutil.disk_usage(self._dir).free)

    def enforce(self, now_ms: int) -> list[Segment]:
        """One pass; returns what was deleted, oldest first."""
        self._dir.mkdir(parents=True, exist_ok=True)
        deleted = self._delete_oldest(lambda s, _: True, before_ms=now_ms - self._policy.max_age_ms)
        total = self._index.total_bytes()
        free = self._free_bytes()

        def over_quota(segment: Segment, freed: int) -> bool:
            too_big = self._policy.max_bytes is not None and total - freed > self._policy.max_bytes
            return too_big or free + freed < self._policy.min_free_bytes

        deleted += self._delete_oldest(over_quota, before_ms=None)
        if deleted:
            log.info("retention deleted %d segments (oldest %s)", len(deleted), deleted[0].path)
        if self._free_bytes() < self._policy.min_free_bytes:
            log.warning("disk free space %d bytes is below storage.min_free_bytes %d even after retention",
                        self._free_bytes(), self._policy.min_free_bytes)
        return deleted

    def _delete_oldest(self, wanted: Callable[[Segment, int], bool], before_ms: int | None) -> list[Segment]:
        deleted: list[Segment] = []
        freed = 0
        skipped: set[int] = set()
        while True:
            batch = [s for s in self._index.oldest_segments(BATCH + len(skipped), before_ms=before_ms)
                     if s.id not in skipped]
            if not batch:
                return deleted
            for segment in batch:
                if not wanted(segment, freed):
                    return deleted
                assert segment.id is not None
                if self._leases.is_held(segment.path):
                    skipped.add(segment.id)  # being served right now; the next pass takes it
                    continue
                self._index.delete_segment(segment.id)
                self._remove_file(segment.path)
                freed += segment.bytes
                deleted.append(segment)

    def _remove_file(self, relpath: str) -> None:
        path = self._dir / relpath
        path.unlink(missing_ok=True)
        try:
            path.parent.rmdir()  # the day folder, once empty
        except OSError:
            pass
