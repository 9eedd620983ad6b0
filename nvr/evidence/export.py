"""A case as one signed ZIP: a clip per item, an offline player, Vietnamese instructions, the station's public
key, the manifest and its signature (design/evidence.md).

Each clip is cut by stream copy straight into the ZIP (stored, not compressed: H.264 does not shrink) with
the station's wall-clock time as a timed-text track. Every segment is hashed as the clip reads it and
compared with the hash taken when it was recorded: one that changed refuses the whole export
(CustodyError). The manifest lists every other file with its SHA-256.
"""

from __future__ import annotations

import hashlib
import time
import zipfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol
from zoneinfo import ZoneInfo

from nvr.evidence import manifest as names
from nvr.evidence.documents import player_html, readme_vi
from nvr.evidence.manifest import encode, instant
from nvr.evidence.signing import StationKey, fingerprint, public_base64, public_pem
from nvr.evidence.wall_clock import wall_clock_captions
from nvr.times import format_instant
from storage.cases import Case, CaseItem
from storage.clips import ClipPlan, plan_clip, write_clip
from storage.clock import now_ms
from storage.clock_steps import ClockStep, ClockSteps
from storage.custody import CheckedSegment, HashingWriter
from storage.index import Segment
from storage.leases import SegmentLeases

Progress = Callable[[float], None]  # share of the export done, 0..1
RECORDING_MARGIN_MS = 15_000  # a segment is closed at the first keyframe after its length, then indexed
RECORDING_POLL_SECONDS = 0.5


class ExportCancelled(Exception):
    pass


class EndingItem(Protocol):
    """What `wait_for_recording` reads of an item: a station's case item or a district's."""

    @property
    def camera(self) -> str: ...
    @property
    def end_ms(self) -> int: ...


@dataclass(frozen=True)
class CameraInfo:
    title: str
    location: str


@dataclass(frozen=True)
class ExportSource:
    """What an export reads: the station, its key, its segments (closed ones: each has its recorded hash)."""

    station_id: str
    station_title: str
    zone: ZoneInfo
    key: StationKey
    segments_dir: Path
    segments: Callable[[str, int, int], list[Segment]]
    camera_info: Callable[[str, int], CameraInfo]  # a camera's title and location at an instant
    leases: SegmentLeases
    clock_steps: ClockSteps = field(default_factory=ClockSteps)  # forward steps of the clock (storage/clock_steps.py)


def build_export(source: ExportSource, case: Case, by: str, out: Path, *, progress: Progress = lambda _share: None,
                 cancelled: Callable[[], bool] = lambda: False) -> None:
    """Write the export of `case` to `out`; CustodyError when a segment changed since it was recorded. Footage
    still being recorded is not waited for here: the station's export jobs wait for it first (`wait_for_recording`)."""
    plans = [(item, plan_clip(source.segments(item.camera, item.start_ms, item.end_ms), item.start_ms, item.end_ms))
             for item in case.items]
    total_ms = sum(plan.duration_ms for _item, plan in plans if plan) or 1
    done_ms = 0
    clips: list[dict[str, Any]] = []
    skipped: list[dict[str, Any]] = []
    files: list[dict[str, Any]] = []
    used = [segment.path for _item, plan in plans if plan for segment in plan.segments]
    exported_ms = now_ms()
    local = datetime.fromtimestamp(exported_ms / 1000, UTC).astimezone(source.zone)
    with source.leases.hold(used), zipfile.ZipFile(out, "w", zipfile.ZIP_STORED, allowZip64=True) as archive:
        for number, (item, plan) in enumerate(plans, 1):
            if plan is None:
                skipped.append({"item": item.id, "camera": item.camera, **_requested(item, source.zone),
                                "reason": "no footage left in the requested range"})
                continue
            clip = _ClipWriter(source, archive, zip_entry(_clip_name(number, item, plan, source.zone), local), case,
                               item, plan)
            clips.append(clip.write(_share(progress, done_ms, total_ms), cancelled))
            files.append(clip.listing)
            done_ms += plan.duration_ms
        body = _body(source, case, by, exported_ms, clips, skipped)
        seal(archive, local, source.key, body, files, _documents(source, body))
    progress(1.0)


def wait_for_recording(items: Iterable[EndingItem], being_written: Callable[[str, int], bool], segment_ms: int,
                       cancelled: Callable[[], bool]) -> None:
    """Before the build (`ExportJobs`' prepare, the job `waiting`), wait in the export's thread while footage of an
    item is still being written or indexed: a segment of its camera that the catalog does not hold yet starts before
    the item's end (`being_written(camera, instant)`). An export made at once after an incident would otherwise stop
    at the last closed segment, up to a segment short of what the officer asked for. A camera that is not recording
    (offline, or the end in a gap) is not waited for; the wait is at most `segment_ms` (how long a segment is
    written before it is closed) and RECORDING_MARGIN_MS (a long keyframe interval, a catalog that is slow), timed
    from now on the monotonic clock, whatever the item's end (one in the future gets what exists then). The
    manifest's `actual` end says where each clip stopped. ExportCancelled when the export is cancelled meanwhile."""
    deadline = time.monotonic() + (segment_ms + RECORDING_MARGIN_MS) / 1000
    waiting = list(items)
    while waiting := [item for item in waiting if being_written(item.camera, item.end_ms)]:
        if cancelled():
            raise ExportCancelled()
        if time.monotonic() >= deadline:
            return
        time.sleep(RECORDING_POLL_SECONDS)


def seal(archive: zipfile.ZipFile, local: datetime, key: StationKey, body: dict[str, Any],
         files: list[dict[str, Any]], documents: list[tuple[str, bytes]]) -> None:
    """Write `documents`, then the manifest (`body` with `files` and the documents listed) and its signature:
    the end of every export, a post's or a district's."""
    for name, data in documents:
        archive.writestr(zip_entry(name, local), data)
    listed = files + [{"name": name, "bytes": len(data), "sha256": hashlib.sha256(data).hexdigest()}
                      for name, data in documents]
    manifest = encode({**body, "files": listed})
    archive.writestr(zip_entry(names.MANIFEST, local), manifest)
    archive.writestr(zip_entry(names.SIGNATURE, local), key.sign(manifest))


def _share(progress: Progress, done_ms: int, total_ms: int) -> Callable[[int], None]:
    """The export's progress from the milliseconds written of the clip that follows `done_ms` of the others."""
    return lambda ms: progress((done_ms + ms) / total_ms)


class _ClipWriter:
    """One item's clip, written into the ZIP, and what the manifest says of it."""

    def __init__(self, source: ExportSource, archive: zipfile.ZipFile, entry: zipfile.ZipInfo, case: Case,
                 item: CaseItem, plan: ClipPlan) -> None:
        self._source = source
        self._archive = archive
        self._entry = entry
        self._case = case
        self._item = item
        self._plan = plan
        self.name = entry.filename
        self._read: list[CheckedSegment] = []
        self.listing: dict[str, Any] = {}

    def write(self, progress: Callable[[int], None], cancelled: Callable[[], bool]) -> dict[str, Any]:
        zone, plan = self._source.zone, self._plan
        camera = self._source.camera_info(self._item.camera, plan.first_ms)  # where it stood when it recorded
        metadata = {"creation_time": instant(plan.first_ms, zone)["utc"],
                    "title": f"{self._case.title} - {camera.title or self._item.camera}"}
        big = sum(segment.bytes for segment in plan.segments) > zipfile.ZIP64_LIMIT // 2
        with self._archive.open(self._entry, "w", force_zip64=big) as entry:
            sink = HashingWriter(entry)
            written_ms = write_clip(plan, self._source.segments_dir, sink, progress=lambda ms, _total: progress(ms),
                                    cancelled=cancelled, open_segment=self._open, metadata=metadata,
                                    captions=wall_clock_captions(plan.first_ms, plan.end_ms, zone))
        if cancelled():
            raise ExportCancelled()
        self.listing = {"name": self.name, "bytes": sink.size, "sha256": sink.hexdigest()}
        segments = {segment.path: segment for segment in plan.segments}
        return {
            "file": self.name, "item": self._item.id, "camera": self._item.camera, "title": camera.title,
            "location": camera.location, "note": self._item.note, **_requested(self._item, zone),
            "actual": {"start": instant(plan.first_ms, zone), "end": instant(plan.first_ms + written_ms, zone)},
            "bytes": sink.size, "sha256": sink.hexdigest(),
            "segments": [_segment_entry(segments[read.relpath], read, zone) for read in self._read],
        }

    def _open(self, segment: Segment) -> CheckedSegment:
        """The segment, hashed as the clip reads it and checked when it is closed (CustodyError)."""
        self._read.append(CheckedSegment(self._source.segments_dir, segment.path, segment.sha256))
        return self._read[-1]


def _segment_entry(segment: Segment, read: CheckedSegment, zone: ZoneInfo) -> dict[str, Any]:
    return {"file": segment.path, "start": instant(segment.start_ms, zone), "end": instant(segment.end_ms, zone),
            "bytes": segment.bytes, "recorded_sha256": segment.sha256, "sha256": read.sha256}


def _clip_name(number: int, item: CaseItem, plan: ClipPlan, zone: ZoneInfo) -> str:
    local = datetime.fromtimestamp(plan.first_ms / 1000, UTC).astimezone(zone)
    return f"{names.CLIPS}/{number:02d}-{item.camera}-{local:%Y%m%d-%H%M%S}.mp4"


def zip_entry(name: str, local: datetime) -> zipfile.ZipInfo:
    """A stored member dated with the export's local time, readable by all once extracted."""
    entry = zipfile.ZipInfo(name, date_time=local.timetuple()[:6])
    entry.compress_type = zipfile.ZIP_STORED
    entry.external_attr = 0o644 << 16
    return entry


def _requested(item: CaseItem, zone: ZoneInfo) -> dict[str, Any]:
    return {"requested": {"start": instant(item.start_ms, zone), "end": instant(item.end_ms, zone)}}


def _body(source: ExportSource, case: Case, by: str, exported_ms: int, clips: list[dict[str, Any]],
          skipped: list[dict[str, Any]]) -> dict[str, Any]:
    zone = source.zone
    unhashed = sum(segment["recorded_sha256"] is None for clip in clips for segment in clip["segments"])
    notes = [(f"{unhashed} segments were recorded before the station kept hashes: their SHA-256 is the one read "
             "at export, with nothing recorded to compare it with")] if unhashed else []
    spans = [(segment["start"]["unix_ms"], segment["end"]["unix_ms"]) for clip in clips for segment in clip["segments"]]
    steps = [step for step in source.clock_steps.steps if any(step.overlaps(*span) for span in spans)]
    notes += [_step_note(step, zone) for step in steps]
    return {
        "format": names.FORMAT,
        "case": {"id": case.id, "title": case.title, "note": case.note, "status": case.status,
                 "created": instant(case.created_ms, zone), "created_by": case.created_by},
        "station": {"id": source.station_id, "title": source.station_title, "timezone": zone.key,
                    "public_key": public_base64(source.key.public), "key_fingerprint": fingerprint(source.key.public)},
        "exported_by": by,
        "exported_at": instant(exported_ms, zone),
        "clips": clips,
        "skipped": skipped,
        "notes": notes,
        "clock_steps": [{"since": instant(step.since_ms, zone),
                         "before": instant(step.before_ms, zone), "after": instant(step.after_ms, zone),
                         "seconds": step.shift_ms / 1000} for step in steps],
    }


def _step_note(step: ClockStep, zone: ZoneInfo) -> str:
    """A forward step of the clock that some exported footage was stamped before, for people (the player shows it)."""
    seconds = f"{step.shift_ms / 1000:.0f}"
    since, before, after = (format_instant(ms, zone) for ms in (step.since_ms, step.before_ms, step.after_ms))
    return (f"Đồng hồ của trạm đã được chỉnh tiến {seconds} giây (lúc {before} theo đồng hồ cũ, {after} theo đồng hồ "
            f"mới). Hình ghi từ {since} đến thời điểm đó mang giờ của đồng hồ cũ: giờ thật bằng giờ ghi cộng thêm "
            f"{seconds} giây.")


def _documents(source: ExportSource, body: dict[str, Any]) -> list[tuple[str, bytes]]:
    """The files beside the clips; the player shows `body` (the manifest but for its list of files)."""
    return [(names.PLAYER, player_html(body)), (names.README, readme_vi(body)),
            (names.PUBLIC_KEY, public_pem(source.key.public).encode())]
