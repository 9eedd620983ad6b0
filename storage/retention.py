"""Retention: delete the oldest recordings first, by age and by disk quota (index row first, file second).

Footage around detection events is kept for `event_age_ms` (longer than continuous footage), so the
clip of a theft outlives the hours around it; the quota, when the disk is full, still takes the oldest.
Footage of an open case is locked: neither the age limit nor the quota ever deletes it. When what is left
is locked and the disk still fills up, recording stops (the cameras say `disk full`) rather than evidence
going: `shortage` says so, in the log once and in `GET /api/storage`.
Motion grids go at each full pass once older than the footage kept.
On a disk too full for the index to write a deletion, the space reserve is released; without one, the
file goes first and its row is dropped as soon as the index can write again (see design/storage.md).
While the catalog is away (a post's link to the district's PostgreSQL), the oldest unlocked files noted at
the last full pass are evicted the same way, file first (see design/district.md).
Age is judged on the station's clock, less the forward steps it made since a recording was stamped
(storage/clock_steps.py): a clock set right after booting in the past does not make that footage look old.
"""

from __future__ import annotations

import bisect
import contextlib
import heapq
import logging
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from enum import Enum
from pathlib import Path

from sqlalchemy.exc import SQLAlchemyError

from storage import disk_space
from storage.clock_steps import ClockSteps, Piece
from storage.clock_watch import ClockWatch
from storage.events import EventStore
from storage.index import RecordingIndex, Segment
from storage.leases import SegmentLeases
from storage.locks import LONGEST_SEGMENT_MS
from storage.motion_grids import MotionGridStore
from storage.reserve import SpaceReserve

log = logging.getLogger(__name__)
BATCH = 200
SPARE_FILES = 10_000  # oldest unlocked files noted for an outage of the catalog (~1 MB; 100 minutes of 100 cameras)
SPARE_REFRESH_SECONDS = 600.0  # how often the full pass notes them again (at once after a case changed)
EVENT_MARGIN_MS = 10_000  # footage kept on each side of an event
LEAST_FREE_BYTES = 64_000_000  # see Retention._least_target
SHORTAGE_REFRESH_SECONDS = 60.0  # a shortage's figures are read again this often while it lasts
OTHER_FILES_SHARE = 0.05  # other files than the recordings taking more of the disk are named in a shortage


class _Row(Enum):
    """What became of a segment's row at a deletion."""

    GONE = "gone"  # deleted (or gone already)
    KEPT = "kept"  # an open case locks it
    NO_ROOM = "no room"  # the disk is too full to write its deletion


@dataclass(frozen=True)
class RetentionPolicy:
    max_age_ms: int
    max_bytes: int | None
    min_free_bytes: int
    event_age_ms: int = 0  # keep footage around events this long (0: like any footage)


class Retention:
    def __init__(self, index: RecordingIndex, segments_dir: Path, policy: RetentionPolicy,
                 leases: SegmentLeases, free_bytes: Callable[[], int] | None = None,
                 events: EventStore | None = None, snapshots_dir: Path | None = None,
                 reserve: SpaceReserve | None = None, grids: MotionGridStore | None = None,
                 clock: ClockWatch | None = None) -> None:
        self._index = index
        self._events = events
        self._grids = grids
        self._snapshots_dir = snapshots_dir
        self._dir = segments_dir
        self._policy = policy
        self._leases = leases
        self._free_bytes = free_bytes or (lambda: disk_space.free_bytes(self._dir))
        self._reserve = reserve
        self._clock = clock
        self.clock_steps = ClockSteps()  # as read at the last full pass
        self._rows_without_file: set[int] = set()  # evicted files whose row the full disk or an outage kept
        self._shortage_at = 0.0  # when the shortage's figures were read (monotonic s)
        self._spare: list[tuple[int, str, int]] = []  # (id, path, bytes) of the oldest unlocked files, oldest last
        self._spare_noted = float("-inf")  # monotonic time of the last note
        self._locks_changed = 0  # times a case changed what is locked (forget_noted_files)
        self._unlocked_from: int | None = None  # the earliest stamp cases unlocked since the last pass began
        self._unlocked_lock = threading.Lock()  # the cases' changes come from the API's threads
        self._judged_until: int | None = None  # segments ending by then (real time) were judged by the age pass
        self.shortage: str | None = None  # why free space stays below the floor even after retention

    def enforce(self, now_ms: int) -> list[Segment]:
        """One pass by age and quota; returns what was deleted, oldest first.

        Footage older than every event's keep goes whole. Between that and the age limit, a segment near an event
        stays until it is older than the events' keep: such a segment, once judged, is not judged again at every
        pass (`_judged_until`; a camera with an event every few minutes keeps most of two months of segments,
        and reading them all from the oldest at every batch made a pass grow with their square: minutes, the
        free-space check waiting behind it)."""
        self._dir.mkdir(parents=True, exist_ok=True)
        steps = self.clock_steps = self._clock.check() if self._clock is not None else ClockSteps()
        age_cutoff = now_ms - self._policy.max_age_ms
        event_cutoff = now_ms - max(self._policy.event_age_ms, self._policy.max_age_ms)
        with self._unlocked_lock:  # taken as the pass begins: what a case unlocks during it waits for the next
            unlocked, self._unlocked_from = self._unlocked_from, None
        if unlocked is not None and self._judged_until is not None:  # at once: a pass that fails must not lose it
            self._judged_until = min(self._judged_until, unlocked + min(p.shift_ms for p in steps.pieces()) - 1)
        deleted = self._delete_oldest(lambda s, _: True, steps.older_than(event_cutoff))
        if age_cutoff > event_cutoff:
            judged = event_cutoff if self._judged_until is None else max(event_cutoff, self._judged_until)
            held: list[int] = []  # the ends of the segments being served, judged again at the next pass
            judging = steps.older_than(age_cutoff, judged_ms=judged)
            deleted += self._delete_oldest(lambda s, _: True, judging,
                                           keep=self._near_event_predicate(event_cutoff, judging), held=held)
            self._judged_until = min([age_cutoff, *(steps.real_ms(end) - 1 for end in held)])
        self._forget_events(event_cutoff)
        deleted += self.make_room()
        if self._grids is not None:
            self._grids.forget(steps, event_cutoff)
        if time.monotonic() - self._spare_noted >= SPARE_REFRESH_SECONDS:
            locks = self._locks_changed
            noted = self._oldest_unlocked_files(steps.pieces())[::-1]
            if locks == self._locks_changed:  # else a case changed while they were read: noted again next pass
                self._spare, self._spare_noted = noted, time.monotonic()
        return deleted

    def forget_noted_files(self, unlocked_from_ms: int | None = None) -> None:
        """A case may have locked some of the files noted for an outage: note them again at the next full pass
        (until then an outage evicts nothing). A case closed, deleted or shortened may have unlocked footage the age
        pass went past: the next pass judges again what ends after `unlocked_from_ms` (a stamp). It judged all of
        it again after any change to a case: 2 million segments and their events at a 200-camera post."""
        self._locks_changed += 1
        if unlocked_from_ms is not None:
            with self._unlocked_lock:
                earlier = self._unlocked_from
                self._unlocked_from = unlocked_from_ms if earlier is None else min(earlier, unlocked_from_ms)
        self._spare = []
        self._spare_noted = float("-inf")

    def needs_room(self) -> bool:
        """Whether free space is below the floor (plus the reserve, when it is not allocated): one statvfs."""
        return self._free_bytes() < self._free_target()

    def make_room(self) -> list[Segment]:
        """The quota pass alone: delete the oldest footage until the byte quota and the free floor hold,
        then allocate the space reserve again if it was released. Returns what was deleted. While the catalog
        does not answer, the files noted at the last full pass go, file first, and the error is raised on."""
        try:
            return self._make_room()
        except SQLAlchemyError as exc:
            if not disk_space.is_disk_full(exc):
                self._evict_noted_files()
            raise

    def _evict_noted_files(self) -> None:
        """No new lock can appear while the catalog is away (cases are kept in it), so the files noted unlocked
        at the last full pass still are; their rows go when the catalog is back (`_drop_rows_without_file`)."""
        evicted = 0
        while self._spare and self._free_bytes() < self._free_target():
            segment_id, relpath, _size = self._spare.pop()
            if self._leases.is_held(relpath) or segment_id in self._rows_without_file:
                continue
            self._remove_file(relpath)
            self._rows_without_file.add(segment_id)
            evicted += 1
        if evicted:
            log.warning("retention: the catalog does not answer; deleted the %d oldest files noted at its last "
                        "pass to keep %d bytes free (their rows go when it is back)", evicted,
                        self._policy.min_free_bytes)

    def _make_room(self) -> list[Segment]:
        self._drop_rows_without_file()
        deleted: list[Segment] = []
        while batch := self._delete_oldest(self._over_quota(), self.clock_steps.pieces()):
            deleted += batch
            if self._free_bytes() >= self._free_target():
                break  # else the index's own writes (or another program) took some of what was freed
        if deleted:
            log.info("retention deleted %d segments (oldest %s)", len(deleted), deleted[0].path)
        # taken back only when as much again stays free: the recordings stop below that (storage/disk_room.py), and
        # a reserve taken from the last free bytes left the catalog none (no login, no row) after a restart
        if self._reserve is not None and 0 < 2 * self._reserve.missing_bytes <= self._free_bytes():
            self._reserve.allocate()  # the floor may dip for a moment; the next check restores it
        self._warn_if_short(self._free_bytes() < self._policy.min_free_bytes)
        return deleted

    def _over_quota(self) -> Callable[[Segment, int], bool]:
        """Whether to delete the next oldest segment, `freed` bytes into a pass (by the sizes in the index;
        `make_room` asks the disk again after the pass)."""
        # the quota counts what it may delete: with locked footage counted, open cases holding more than the
        # quota made every pass delete every other recording down to the segment just finished, and say nothing
        free, target = self._free_bytes(), self._free_target()
        if self._policy.max_bytes is None and free >= target:  # nothing to delete: no sum over a month's catalog
            return lambda _segment, _freed: False
        total = self._index.total_bytes(unlocked=True)
        if free + total < target:  # not even with every unlocked recording gone: other files (or cases) hold the disk
            target = self._least_target(free + total)

        def over_quota(_segment: Segment, freed: int) -> bool:
            too_big = self._policy.max_bytes is not None and total - freed > self._policy.max_bytes
            return too_big or free + freed < target

        return over_quota

    def _free_target(self) -> int:
        """The free floor, at least twice the reserve: the cameras stop below the reserve's size (storage/disk_room.py),
        and a floor under it (min_free_bytes 0) let them stop for good, with nothing deleted to let them go on."""
        size, missing = (self._reserve.size, self._reserve.missing_bytes) if self._reserve else (0, 0)
        return max(self._policy.min_free_bytes, 2 * size) + missing

    def _least_target(self, reachable: int) -> int:
        """What the free-space floor falls back to when it cannot be reached, `reachable` being the free space with
        every unlocked recording gone: room for the reserve and as much again, above which recordings go on
        (storage/disk_room.py), and at least LEAST_FREE_BYTES (without a reserve the cameras would otherwise write to
        the last byte and stop). Chasing the floor there deleted every recording, then each new one as it closed: the
        station recorded and kept nothing. So the fallback asks for at most half of what can be reached (the newest
        half stays, and the cameras record over the older one), and for nothing when that half is less than the room
        the cameras stop below: they could not record in it, and the footage would go for nothing."""
        size, missing = (self._reserve.size, self._reserve.missing_bytes) if self._reserve else (0, 0)
        target = min(self._free_target(), max(2 * size, LEAST_FREE_BYTES) + missing, reachable // 2)
        return target if target >= size + missing else 0

    def _warn_if_short(self, short: bool) -> None:
        if short:
            if self.shortage is None or time.monotonic() - self._shortage_at >= SHORTAGE_REFRESH_SECONDS:
                shortage = self._shortage()  # sums over the catalog: not at every check of the second
                if self.shortage is None:
                    log.warning("%s", shortage)
                self.shortage, self._shortage_at = shortage, time.monotonic()
        elif self.shortage is not None:
            log.info("disk free space is back above storage.min_free_bytes")
            self.shortage = None

    def _shortage(self) -> str:
        """Why free space stays below the floor: what open cases lock, and what other files than the recordings take."""
        disk = disk_space.disk_usage(self._dir)
        text = (f"disk free space {self._free_bytes()} bytes is below storage.min_free_bytes "
                f"{self._policy.min_free_bytes} even after retention")
        locked, footage = self._index.total_bytes(locked=True), self._index.total_bytes()
        if locked:
            text += f"; {locked} bytes of footage are locked by open cases and are never deleted: close a case"
        others = disk.used - footage - (self._reserve.size if self._reserve and self._reserve.held else 0)
        if others > OTHER_FILES_SHARE * disk.total:
            text += (f"; other files than the recordings take {others} bytes of the disk: free them (the newest "
                     f"recordings are kept, and recording stops when less than storage.reserve_bytes is free)")
        return text

    def _near_event_predicate(self, since_ms: int, judging: list[Piece]) -> Callable[[Segment], bool]:
        """Whether a segment ending in `judging` overlaps the footage kept around an event (ended since `since_ms`, real
        time) of its camera: a binary search in each camera's spans, merged into disjoint ones. Only the events near
        those segments are read: all of the events' keep was 1.3 million events at each pass of a 200-camera post."""
        spans: dict[str, list[tuple[int, int]]] = {}
        steps = self.clock_steps
        if self._events is not None and judging:  # asked only when events keep footage longer (enforce)
            firsts = [piece.after_ms for piece in judging if piece.after_ms is not None]
            lasts = [piece.until_ms for piece in judging if piece.until_ms is not None]
            assert len(firsts) == len(lasts) == len(judging), "a judged pass's pieces are bounded both ways"
            lowest = max(since_ms - max(p.shift_ms for p in steps.pieces()),
                         min(firsts) - LONGEST_SEGMENT_MS - EVENT_MARGIN_MS)  # a segment starts within a day of its end
            for camera, start, end in self._events.spans(lowest, max(lasts) + EVENT_MARGIN_MS):
                if end is None or steps.real_ms(end) >= since_ms:
                    spans.setdefault(camera, []).append((start - EVENT_MARGIN_MS, (end or start) + EVENT_MARGIN_MS))
        merged = {camera: _merged(found) for camera, found in spans.items()}
        ends = {camera: [hi for _lo, hi in found] for camera, found in merged.items()}

        def near(segment: Segment) -> bool:
            found = merged.get(segment.camera, [])
            i = bisect.bisect_right(ends.get(segment.camera, []), segment.start_ms)  # the first span ending after it
            return i < len(found) and found[i][0] < segment.end_ms

        return near

    def _forget_events(self, before_ms: int) -> None:
        if self._events is None:
            return
        for piece in self.clock_steps.older_than(before_ms - 1):
            assert piece.until_ms is not None  # older than a time: bounded
            for snapshot in self._events.delete_ended_before(piece.until_ms + 1, after_ms=piece.after_ms):
                if self._snapshots_dir is not None:
                    (self._snapshots_dir / snapshot).unlink(missing_ok=True)

    def _delete_oldest(self, wanted: Callable[[Segment, int], bool], pieces: list[Piece],
                       keep: Callable[[Segment], bool] = lambda _segment: False,
                       held: list[int] | None = None) -> list[Segment]:
        """Walk the unlocked segments ending in `pieces` oldest first, deleting while `wanted` (the segment, the
        bytes freed so far) says so, except those `keep` keeps and those being served (their ends go into `held`)."""
        deleted: list[Segment] = []
        freed = 0
        for segment in self._oldest(pieces):
            assert segment.id is not None
            if segment.id in self._rows_without_file:
                continue
            if not wanted(segment, freed):
                return deleted
            if self._leases.is_held(segment.path):  # being served right now: the next pass takes it
                if held is not None:
                    held.append(segment.end_ms)
                continue
            if keep(segment) or not self._evict(segment.id, segment.path):  # kept, or locked since it was read
                continue
            freed += segment.bytes
            deleted.append(segment)
        return deleted

    def _oldest(self, pieces: list[Piece]) -> Iterator[Segment]:
        """The unlocked segments ending in `pieces`, oldest first by real start time: each piece read a page at a time
        in stamp order, the pieces merged."""
        for _real, _id, segment in heapq.merge(*(self._walk(piece) for piece in pieces)):
            yield segment

    def _oldest_unlocked_files(self, pieces: list[Piece]) -> list[tuple[int, str, int]]:
        """(id, path, bytes) of the oldest `SPARE_FILES` unlocked segments by real start time."""
        found = [(start + piece.shift_ms, segment_id, path, size) for piece in pieces
                 for start, segment_id, path, size in self._index.oldest_unlocked_files(
                     SPARE_FILES, ended_after_ms=piece.after_ms, before_ms=piece.until_ms)]
        return [(segment_id, path, size) for _real, segment_id, path, size in sorted(found)[:SPARE_FILES]]

    def _walk(self, piece: Piece) -> Iterator[tuple[int, int, Segment]]:
        """(real start, id, segment) of the segments ending in `piece`, by start and id."""
        page: tuple[int, int] | None = None  # (start, id) of the last segment read
        while batch := self._index.oldest_segments(BATCH, before_ms=piece.until_ms, unlocked=True,
                                                   ended_after_ms=piece.after_ms, following=page):
            for segment in batch:
                assert segment.id is not None
                page = (segment.start_ms, segment.id)
                yield segment.start_ms + piece.shift_ms, segment.id, segment

    def _evict(self, segment_id: int, relpath: str) -> bool:
        """Index row first, file second; if the disk is too full even for the row, file first. False (nothing
        deleted) when an open case locks it now: an officer may make a case of footage a pass is about to take,
        the usual moment being as it nears the age limit, and the batch was read before."""
        row = self._delete_row(segment_id, unless_locked=True)
        if row is _Row.KEPT:
            return False
        self._remove_file(relpath)
        if row is _Row.NO_ROOM and self._delete_row(segment_id) is _Row.NO_ROOM:  # the file's bytes usually suffice
            self._rows_without_file.add(segment_id)
        return True

    def _delete_row(self, segment_id: int, unless_locked: bool = False) -> _Row:
        """Delete one index row (`unless_locked`: in the same statement, only if no open case locks it); releases the
        space reserve when the disk is too full to write. NO_ROOM when there is none left to release: then, with
        `unless_locked`, the lock is read instead (reading works on a full disk), for the file to go first."""
        try:
            done = self._index.delete_segment(segment_id, unless_locked=unless_locked)
        except SQLAlchemyError as exc:
            if not disk_space.is_disk_full(exc):
                raise
            if self._reserve is not None and self._reserve.release():
                return self._delete_row(segment_id, unless_locked)
            return _Row.KEPT if unless_locked and self._index.is_locked(segment_id) else _Row.NO_ROOM
        return _Row.GONE if done or not unless_locked else _Row.KEPT

    def _drop_rows_without_file(self) -> None:
        for segment_id in sorted(self._rows_without_file):
            if self._delete_row(segment_id) is _Row.NO_ROOM:
                return
            self._rows_without_file.discard(segment_id)

    def _remove_file(self, relpath: str) -> None:
        path = self._dir / relpath
        path.unlink(missing_ok=True)
        with contextlib.suppress(OSError):
            path.parent.rmdir()  # the day folder, once empty


def _merged(spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """(lo, hi) spans merged where they overlap or touch, in order: disjoint, their ends rising."""
    merged: list[tuple[int, int]] = []
    for lo, hi in sorted(spans):
        if merged and lo <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], hi))
        else:
            merged.append((lo, hi))
    return merged
