"""At start, what the recorders of the previous run journaled and did not write is written before the catalog is
checked against the files (`nvr/runtime/startup.py`)."""

from __future__ import annotations

from pathlib import Path

from nvr.runtime.startup import prepare_catalog
from storage.accounts import AccountStore
from storage.catalog_journal import CatalogJournal, journal_path
from storage.custody import sha256_file
from storage.index import RecordingIndex, Segment
from storage.layout import segment_relpath
from tests.conftest import station_config
from tests.support.media import encode_video

T = 1_795_000_000_000


def test_a_killed_recorder_s_journal_is_written_before_the_files_are_checked(tmp_path: Path) -> None:
    """A recorder killed before its journal reached the catalog: the check of the files came first and indexed
    the file from a probe, with the hash of the file as it was then. A file changed meanwhile then passed for
    what was recorded. Now the journal's row, with the hash taken as it was recorded, is written first."""
    config = station_config(tmp_path, [{"name": "hem-4", "record_url": "demo://alley"}])
    relpath = segment_relpath("hem-4", T)
    path = config.segments_dir / relpath
    path.parent.mkdir(parents=True)
    encode_video(path, seconds=1)
    recorded = sha256_file(path)
    journal = CatalogJournal(journal_path(config.data_dir, 0), "post")
    journal.append([Segment("hem-4", relpath, T, T + 1000, path.stat().st_size, (0,), sha256=recorded)])
    journal.close()
    path.write_bytes(path.read_bytes()[:-10] + b"0123456789")  # changed after it was recorded
    index = RecordingIndex(config.database_url, "post")
    try:
        prepare_catalog(config, index, AccountStore(index))
        [segment] = index.all_segments()
        assert segment.sha256 == recorded != sha256_file(path)
        assert not CatalogJournal(journal_path(config.data_dir, 0), "post").pending, "its rows are written"
    finally:
        index.close()


def test_the_start_leaves_the_recorded_cameras_files_to_their_recorders(tmp_path: Path) -> None:
    """Checked at the start, before any camera recorded, a month's catalog of a post kept every camera from
    recording for minutes after a power cut (8.6 million segments at 20 microseconds each). Each recorder checks its
    own cameras once they record; the start checks only those no recorder reads: here one that is switched off."""
    config = station_config(tmp_path, [{"name": "hem-4", "record_url": "demo://alley"},
                                       {"name": "ngo-7", "record_url": "demo://alley", "enabled": False}])
    index = RecordingIndex(config.database_url, "post")
    try:
        for camera in ("hem-4", "ngo-7"):
            index.add_segment(Segment(camera, segment_relpath(camera, T), T, T + 1000, 10, (0,)))  # its file is gone
            orphan = config.segments_dir / segment_relpath(camera, T + 1000)  # a file with no row
            orphan.parent.mkdir(parents=True, exist_ok=True)
            encode_video(orphan, seconds=1)
        prepare_catalog(config, index, AccountStore(index))
        assert [s.path for s in index.segments("ngo-7", 0, 2**62)] == [segment_relpath("ngo-7", T + 1000)]
        assert [s.path for s in index.segments("hem-4", 0, 2**62)] == [segment_relpath("hem-4", T)], "left to it"
    finally:
        index.close()
