"""Retention: delete the oldest recordings first, by age and by disk quota (index row first, file second).

Footage around detection events is kept for `event_age_ms` (longer than continuous footage), so the
clip of a theft outlives the hours around it; the quota, when the disk is full, still takes the oldest.
"""

from __future__ import annotations

import logging
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from storage.events import EventStore
from storage.index import RecordingIndex, Segment
from storage.leases import SegmentLeases

log = logging.getLogger(__name__)
BATCH = 200
EVENT_MARGIN_MS = 10_000  # footage kept on each side of an event


@dataclass(frozen=True)
class RetentionPolicy:
    max_age_ms: int
    max_bytes: int | None
    min_free_bytes: int
    event_age_ms: int = 0  # keep footage around events this long (0: like any footage)


class Retention:
    def __init__(self, index: RecordingIndex, segments_dir: Path, policy: RetentionPolicy,
                 leases: SegmentLeases, free_bytes: Callable[[], int] | None = None,
                 events: EventStore | None = None, snapshots_dir: Path | None = None) -> None:
        self._index = index
        self._events = events
        self._snapshots_dir = snapshots_dir
        self._dir = segments_dir
        self._policy = policy
        self._leases = leases
        self._free_bytes = free_bytes or (lambda: shutil.disk_usage(self._dir).free)

    def enforce(self, now_ms: int) -> list[Segment]:
        """One pass; returns what was deleted, oldest first."""
        self._dir.mkdir(parents=True, exist_ok=True)
        event_cutoff = now_ms - max(self._policy.event_age_ms, self._policy.max_age_ms)
        near_event = self._near_event_predicate(event_cutoff)
        deleted = self._delete_oldest(lambda s, _: True, before_ms=now_ms - self._policy.max_age_ms, keep=near_event)
        self._forget_events(event_cutoff)
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

    def _near_event_predicate(self, since_ms: int) -> Callable[[Segment], bool]:
        spans: dict[str, list[tuple[int, int]]] = {}
        if self._events is not None and self._policy.event_age_ms > self._policy.max_age_ms:
            for camera, start, end in self._events.spans(since_ms):
                spans.setdefault(camera, []).append((start - EVENT_MARGIN_MS, (end or start) + EVENT_MARGIN_MS))

        def near(segment: Segment) -> bool:
            return any(lo < segment.end_ms and hi > segment.start_ms for lo, hi in spans.get(segment.camera, ()))

        return near

    def _forget_events(self, before_ms: int) -> None:
        if self._events is None:
            return
        for snapshot in self._events.delete_ended_before(before_ms):
            if self._snapshots_dir is not None:
                (self._snapshots_dir / snapshot).unlink(missing_ok=True)

    def _delete_oldest(self, wanted: Callable[[Segment, int], bool], before_ms: int | None,
                       keep: Callable[[Segment], bool] = lambda _segment: False) -> list[Segment]:
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
                if self._leases.is_held(segment.path) or keep(segment):
                    skipped.add(segment.id)  # being served right now (the next pass takes it), or kept
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
