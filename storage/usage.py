"""What the footage takes: the disk's size and free space, and per camera its bytes (and how many of them open
cases lock) and the time it covers."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import func, select

from storage.clock_steps import ClockSteps, stamped_in
from storage.disk_space import DiskUsage, disk_usage
from storage.index import RecordingIndex
from storage.locks import locked_rows
from storage.models import CameraRow, SegmentRow
from storage.reserve import SpaceReserve


@dataclass(frozen=True)
class CameraUsage:
    camera: str
    bytes: int
    segments: int
    oldest_ms: int | None  # start of the oldest footage kept, as stamped
    oldest_real_ms: int | None  # the same on the clock as it reads now (storage/clock_steps.py)
    recorded_ms: int  # the time actually recorded (gaps not counted)
    locked_bytes: int  # footage of open cases, which retention never deletes


@dataclass(frozen=True)
class StorageUsage:
    disk: DiskUsage  # the filesystem of the segments folder
    cameras: list[CameraUsage]
    reserve_bytes: int
    reserve_held: bool
    others: list[CameraUsage]  # footage of cameras not asked for (removed ones), kept until retention takes it

    @property
    def locked_bytes(self) -> int:
        return sum(camera.locked_bytes for camera in self.cameras + self.others)


def storage_usage(index: RecordingIndex, segments_dir: Path, reserve: SpaceReserve, cameras: list[str],
                  steps: ClockSteps) -> StorageUsage:
    """Usage of the segments' disk, one entry per name in `cameras` (zeros for one with no footage), and the others
    with footage: a removed camera's, counted nowhere, left its locked bytes out of the total."""
    query = (select(CameraRow.name, func.coalesce(func.sum(SegmentRow.bytes), 0), func.count(SegmentRow.id),
                    func.coalesce(func.sum(SegmentRow.end_ms - SegmentRow.start_ms), 0))
             .join(SegmentRow).where(CameraRow.station == index.station).group_by(CameraRow.name))
    held = locked_rows(index.station).subquery()
    locked_query = (select(CameraRow.name, func.sum(held.c.bytes)).join(held, CameraRow.id == held.c.camera_id)
                    .group_by(CameraRow.name))
    oldest = oldest_by_real_time(index, steps)
    with index.session() as session:
        rows = session.execute(query).all()
        locked = {name: int(size) for name, size in session.execute(locked_query).all()}
    found = {}
    for name, size, count, recorded in rows:
        stamp, real = oldest.get(name, (None, None))
        found[name] = CameraUsage(name, int(size), int(count), stamp, real, int(recorded), locked.get(name, 0))
    usage = [found.get(name, CameraUsage(name, 0, 0, None, None, 0, 0)) for name in cameras]
    others = [found[name] for name in sorted(set(found) - set(cameras)) if found[name].segments]
    return StorageUsage(disk_usage(segments_dir), usage, reserve.size, reserve.held, others)


def oldest_by_real_time(index: RecordingIndex, steps: ClockSteps) -> dict[str, tuple[int, int]]:
    """Camera -> (stamp, real time) of the start of its footage recorded first: the least stamp is not that when
    the clock stepped forward after some of it (cameras with none are left out). A query per piece of the stamp
    axis; one without a step."""
    found: dict[str, tuple[int, int]] = {}
    with index.session() as session:
        for piece in steps.pieces():
            # a camera's first segment in the piece, by its index (camera, start): a grouped minimum read every row
            # (2 s a scrape of /metrics at 10 million segments)
            first = (select(SegmentRow.start_ms).where(SegmentRow.camera_id == CameraRow.id,
                                                       stamped_in(SegmentRow.end_ms, [piece]))
                     .order_by(SegmentRow.start_ms).limit(1).scalar_subquery())
            for name, start in session.execute(select(CameraRow.name, first)
                                               .where(CameraRow.station == index.station)).all():
                if start is not None and (name not in found or start + piece.shift_ms < found[name][1]):
                    found[name] = (start, start + piece.shift_ms)
    return found


def oldest_footage(index: RecordingIndex) -> dict[str, int]:
    """Camera -> start of its oldest footage kept (cameras with none are left out). One index look-up per
    camera: cheap enough for every scrape, where summing the segments' bytes is not."""
    oldest = (select(SegmentRow.start_ms).where(SegmentRow.camera_id == CameraRow.id)
              .order_by(SegmentRow.start_ms).limit(1).scalar_subquery())
    with index.session() as session:
        rows = session.execute(select(CameraRow.name, oldest).where(CameraRow.station == index.station)).all()
    return {name: start for name, start in rows if start is not None}
