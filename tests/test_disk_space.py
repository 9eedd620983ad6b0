"""The free-space watch, the space reserve and retention on a disk filled to the last byte."""

from __future__ import annotations

import errno
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import av
import pytest
from sqlalchemy.exc import OperationalError

from storage.disk_space import free_bytes, is_disk_full
from storage.index import RecordingIndex, Segment
from storage.leases import SegmentLeases
from storage.reserve import SpaceReserve
from storage.retention import Retention, RetentionPolicy
from storage.space_watch import SpaceWatch
from tests.conftest import wait_for
from tests.support.disk import fill_disk, small_disk

MB = 1 << 20
SEGMENT_BYTES = 256 * 1024
MINUTE = 60_000


@pytest.fixture
def disk(tmp_path: Path) -> Iterator[Path]:
    with small_disk(tmp_path / "disk", 16) as mounted:
        yield mounted


@pytest.fixture
def index(disk: Path) -> Iterator[RecordingIndex]:
    created = RecordingIndex(f"sqlite:///{disk / 'nvr.db'}", "post")
    yield created
    created.close()


def record(index: RecordingIndex, segments_dir: Path, count: int) -> list[Segment]:
    """`count` one-minute segments of two cameras, alternating, oldest first."""
    for number in range(count):
        camera, start = f"cam{number % 2}", number * MINUTE
        relpath = f"{camera}/day/{start}.mp4"
        (segments_dir / relpath).parent.mkdir(parents=True, exist_ok=True)
        (segments_dir / relpath).write_bytes(bytes(SEGMENT_BYTES))
        index.add_segment(Segment(camera, relpath, start, start + MINUTE, SEGMENT_BYTES))
    return list(index.all_segments())


def assert_index_matches_files(index: RecordingIndex, segments_dir: Path) -> list[Segment]:
    rows = list(index.all_segments())
    assert {s.path for s in rows} == {p.relative_to(segments_dir).as_posix() for p in segments_dir.rglob("*.mp4")}
    return rows


def watch_row_deletions(index: RecordingIndex, segments_dir: Path, monkeypatch: pytest.MonkeyPatch) -> list[bool]:
    """For each row deleted, whether its file was still there (the order of deletion: row first, file second)."""
    paths = {s.id: s.path for s in index.all_segments()}
    file_present: list[bool] = []
    real_delete = index.delete_segment

    def delete_segment(segment_id: int, **options: bool) -> bool:
        deleted = real_delete(segment_id, **options)
        file_present.append((segments_dir / paths[segment_id]).exists())
        return deleted

    monkeypatch.setattr(index, "delete_segment", delete_segment)
    return file_present


def retention(index: RecordingIndex, segments_dir: Path, reserve: SpaceReserve | None) -> Retention:
    policy = RetentionPolicy(max_age_ms=10**12, max_bytes=None, min_free_bytes=MB)
    return Retention(index, segments_dir, policy, SegmentLeases(), reserve=reserve)


def test_reserve_takes_real_space_and_gives_it_back(disk: Path) -> None:
    reserve = SpaceReserve(disk / "space-reserve", 2 * MB)
    empty = free_bytes(disk)
    assert reserve.allocate() and reserve.held and reserve.missing_bytes == 0
    assert empty - free_bytes(disk) >= 2 * MB, "allocated, not a sparse file"
    assert reserve.release() and not reserve.held and not reserve.release()
    assert free_bytes(disk) == empty
    fill_disk(disk / "filler")
    assert free_bytes(disk) == 0
    assert not reserve.allocate(), "no room: not allocated"
    assert sorted(p.name for p in disk.iterdir()) == ["filler"], "no partial reserve left behind"
    (disk / "filler").unlink()
    assert reserve.allocate() and reserve.held


def test_disk_full_is_recognised_through_wrappers() -> None:
    assert is_disk_full(OSError(errno.ENOSPC, "No space left on device"))
    assert is_disk_full(av.error.OSError(errno.ENOSPC, "No space left on device"))
    full_sqlite = sqlite3.OperationalError("database or disk is full")
    assert is_disk_full(OperationalError("DELETE FROM segments", {}, full_sqlite))
    assert not is_disk_full(OSError(errno.ENOENT, "No such file or directory"))
    assert not is_disk_full(OperationalError("DELETE", {}, sqlite3.OperationalError("database is locked")))


def test_full_disk_evicts_oldest_through_the_reserve(disk: Path, index: RecordingIndex,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    segments_dir = disk / "segments"
    recorded = record(index, segments_dir, 12)
    reserve = SpaceReserve(disk / "space-reserve", MB)
    assert reserve.allocate()
    fill_disk(disk / "filler")
    with pytest.raises(OperationalError, match="database or disk is full"):
        index.delete_segment(recorded[0].id or 0)  # what every retention pass hit before the reserve
    file_present = watch_row_deletions(index, segments_dir, monkeypatch)

    deleted = retention(index, segments_dir, reserve).make_room()

    assert [s.path for s in deleted] == [s.path for s in recorded[:len(deleted)]], "oldest first"
    assert file_present == [True] * len(deleted), "row first, file second, even on a full disk"
    assert free_bytes(disk) >= MB and reserve.held, "the floor holds and the reserve is back"
    kept = assert_index_matches_files(index, segments_dir)
    assert [s.path for s in kept] == [s.path for s in recorded[len(deleted):]], "nothing else lost"


def test_without_a_reserve_the_file_goes_first_and_its_row_follows(disk: Path, index: RecordingIndex,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    segments_dir = disk / "segments"
    recorded = record(index, segments_dir, 12)
    fill_disk(disk / "filler")
    file_present = watch_row_deletions(index, segments_dir, monkeypatch)

    deleted = retention(index, segments_dir, None).make_room()

    assert [s.path for s in deleted] == [s.path for s in recorded[:len(deleted)]]
    assert file_present[0] is False, "the first file had to go before the index could write"
    assert free_bytes(disk) >= MB
    assert [s.path for s in assert_index_matches_files(index, segments_dir)] == \
        [s.path for s in recorded[len(deleted):]]


def test_space_watch_evicts_within_two_seconds_of_the_disk_filling(disk: Path, index: RecordingIndex) -> None:
    segments_dir = disk / "segments"
    recorded = record(index, segments_dir, 12)
    reserve = SpaceReserve(disk / "space-reserve", MB)
    watch = SpaceWatch(retention(index, segments_dir, reserve), full_pass_seconds=3600, now_ms=lambda: 13 * MINUTE)
    watch.start()
    try:
        wait_for(lambda: reserve.held, 5, "the first pass to allocate the reserve")
        fill_disk(disk / "filler")
        wait_for(lambda: free_bytes(disk) >= MB and reserve.held, 2.5, "the fast check to make room")
    finally:
        watch.stop()
    kept = assert_index_matches_files(index, segments_dir)
    assert 0 < len(kept) < len(recorded)
    assert [s.path for s in kept] == [s.path for s in recorded[-len(kept):]]


def test_a_start_on_a_full_disk_never_deletes_footage_an_open_case_locks(disk: Path, tmp_path: Path,
                                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    """Before the catalog is opened a start makes room by deleting the oldest files: it deleted those of open cases
    too (and reconciliation then dropped their rows): evidence lost with a warning line."""
    from storage.cases import CaseStore, NewItem
    from storage.layout import segment_relpath
    from storage.start_room import catalog_locks, make_room_to_start

    url = f"sqlite:///{disk / 'catalog.db'}"  # on the full disk: opened as a file nobody writes
    catalog = RecordingIndex(url, "post")
    segments_dir = disk / "segments"
    base = 1_796_000_000_000
    for number in range(6):  # the oldest three locked by an open case, the newer three not
        start = base + number * MINUTE
        relpath = segment_relpath("cam0", start)
        (segments_dir / relpath).parent.mkdir(parents=True, exist_ok=True)
        (segments_dir / relpath).write_bytes(bytes(MB))
        catalog.add_segment(Segment("cam0", relpath, start, start + MINUTE, MB))
    CaseStore(catalog).create("Mất xe", "", [NewItem("cam0", base, base + 3 * MINUTE)], "duty")
    locked = catalog.locked_paths()
    assert len(locked) == 3
    catalog.close()
    fill_disk(disk / "filler")
    on_disk = lambda: {p.relative_to(segments_dir).as_posix() for p in segments_dir.rglob("*.mp4")}  # noqa: E731

    make_room_to_start(SpaceReserve(disk / "space-reserve", 2 * MB), segments_dir, lambda: None)
    assert len(on_disk()) == 6, "which footage is locked unknown: nothing deleted"
    here = tmp_path / "working-folder"  # the service's is the data folder, on the full disk
    here.mkdir()
    monkeypatch.chdir(here)
    make_room_to_start(SpaceReserve(disk / "space-reserve", 2 * MB), segments_dir, catalog_locks(url, "post"))
    assert list(here.iterdir()) == [], "no folder made for the catalog opened as a file nobody writes"
    assert locked <= on_disk(), "every locked file kept"
    assert len(on_disk()) in (3, 4) and free_bytes(disk) >= 2 * MB, "the unlocked ones went, oldest first"
