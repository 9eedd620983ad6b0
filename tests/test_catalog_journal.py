"""The catalog writer's journal: rows written while PostgreSQL is stopped wait on disk, survive the writer
being stopped and started again, and reach the catalog in order, each once, also when the journal is applied
a second time; another station's rows in the journal are refused."""

from __future__ import annotations

import time
import tracemalloc
from collections.abc import Iterator, Sequence
from pathlib import Path

import pytest
from sqlalchemy import func, select

from storage.catalog_journal import CatalogJournal, adopt_orphans, journal_path
from storage.catalog_rows import OutageEnd, OutageStart, Row
from storage.catalog_writer import CatalogWriter
from storage.index import Outage, RecordingIndex, Segment
from storage.models import SegmentRow
from tests.conftest import wait_for
from tests.support.disk import fill_disk, small_disk
from tests.support.postgres import PostgresServer

STATION = "post-a"


@pytest.fixture(scope="module")
def pausable_postgres() -> Iterator[PostgresServer]:
    """A server of this module's own: it is stopped and started again, which the shared one must not be."""
    with PostgresServer() as server:
        yield server


def segment(n: int) -> Segment:
    return Segment("cam0", f"cam0/{n}.mp4", n * 1000, n * 1000 + 1000, 10, (0,), None, f"{n:064x}")


def catalog(index: RecordingIndex) -> tuple[list[tuple[str, int]], list[Outage]]:
    """(path, how many rows it has) of every segment, and the outages."""
    with index.session() as session:
        counts = session.execute(select(SegmentRow.path, func.count()).where(SegmentRow.station == index.station)
                                 .group_by(SegmentRow.path).order_by(SegmentRow.path)).all()
    return [(path, count) for path, count in counts], index.outages("cam0", 0, 2**62)


def writer_on(index: RecordingIndex, path: Path) -> CatalogWriter:
    writer = CatalogWriter(index, CatalogJournal(path, index.station))
    writer.start()
    return writer


def test_rows_written_while_postgresql_is_stopped_reach_it_in_order_each_once(
        pausable_postgres: PostgresServer, tmp_path: Path) -> None:
    index = RecordingIndex(pausable_postgres.url(), STATION)
    path = journal_path(tmp_path, 0)
    writer = writer_on(index, path)
    refused = Segment("cam0", "cam0/" + "x" * 600 + ".mp4", 0, 1000, 10)  # longer than the catalog takes
    writer.put(refused)
    writer.put(segment(1))
    assert writer.flush(10), "a row refused for good is dropped, not tried for ever"
    assert writer.indexed(segment(1).path) and writer.indexed(refused.path), "done with: not shown as waiting"
    assert path.read_bytes() == b"", "the journal is emptied once the catalog has its rows"

    pausable_postgres.pause()
    try:
        away: list[Row] = [OutageStart("cam0", 2000, "offline"), segment(2), OutageEnd("cam0", 3000), segment(3),
                           segment(3)]  # a repeated row is written once
        started = time.monotonic()
        for row in away:
            writer.put(row)
        assert time.monotonic() - started < 0.1, "nothing waits for the database"
        wait_for(lambda: path.read_bytes().count(b"\n") == len(away), 10, "the rows in the journal on disk")
        assert not writer.flush(1), "the catalog does not have them"
        assert not writer.indexed(segment(2).path), "the recorder goes on showing it beside the catalog's"
        began = time.monotonic()
        writer.stop()  # as a recorder stops: what is in the journal need not wait for the database
        assert time.monotonic() - began < 3
    finally:
        pausable_postgres.resume()
    saved = path.read_bytes()

    writer = writer_on(index, path)  # a recorder started again finds the rows and writes them
    assert writer.flush(30)
    writer.stop()
    expected = ([("cam0/1.mp4", 1), ("cam0/2.mp4", 1), ("cam0/3.mp4", 1)], [Outage("cam0", 2000, 3000, "offline")])
    assert catalog(index) == expected
    assert index.segments("cam0", 3000, 4000)[0].sha256 == f"{3:064x}", "every field of the row kept"

    path.write_bytes(saved)  # as if the offset written after the commit had been lost
    writer = writer_on(index, path)
    assert writer.flush(30)
    writer.stop()
    assert catalog(index) == expected, "applied again, it adds nothing"
    index.close()


def test_only_this_stations_rows_in_a_journal_are_written(tmp_path: Path) -> None:
    """A data folder moved to a box with another station id: the rows journaled under the old id are not
    written under the new one (nor, by this box, under the old)."""
    folder = tmp_path / "data"
    theirs = CatalogJournal(journal_path(folder, 1), "post-b")
    theirs.append([segment(1), OutageStart("cam0", 1500, "offline")])
    theirs.close()
    ours = CatalogJournal(journal_path(folder, 1), STATION)
    ours.append([segment(2)])
    ours.close()
    with journal_path(folder, 1).open("ab") as cut:
        cut.write(b'{"station":"post-a","kind":"seg')  # a power cut in the middle of a line

    adopt_orphans(folder, 1, STATION)  # one recorder now: recorder 1's journal goes to recorder 0's
    assert not journal_path(folder, 1).exists()
    url = f"sqlite:///{tmp_path / 'nvr.db'}"
    index, other = RecordingIndex(url, STATION), RecordingIndex(url, "post-b")
    writer = writer_on(index, journal_path(folder, 0))
    writer.put(segment(3))
    assert writer.flush(10)
    writer.stop()
    assert catalog(index) == ([("cam0/2.mp4", 1), ("cam0/3.mp4", 1)], [])
    assert catalog(other) == ([], [])
    index.close()
    other.close()


def test_damaged_lines_in_a_journal_are_skipped_and_said(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    """A whole line that is no row (a damaged disk block, a hand edit) stopped every start of the station with a
    traceback: nothing recorded until someone found the file. Such lines are skipped, and the start says so."""
    folder = tmp_path / "data"
    journal = CatalogJournal(journal_path(folder, 1), STATION)
    journal.append([segment(1)])
    journal.close()
    with journal_path(folder, 1).open("ab") as damaged:
        damaged.write(b"\x00\x17 not a row\n" + b'{"station":"post-a","kind":"segment"}\n' + b"[1, 2]\n"
                      + b'{"station":"post-a","kind":"sgment","camera":"cam0","end_ms":5}\n'  # an outage end before
                      + b'{"station":"post-a","kind":"outage_end","camera":"cam0","end_ms":"5"}\n'
                      + b'{"station": "post-a", "kind": "outage_end", "camera": "cam0", "end_ms": 5}\n')
    journal = CatalogJournal(journal_path(folder, 1), STATION)
    journal.append([segment(2)])
    journal.close()
    with caplog.at_level("ERROR", logger="storage.catalog_journal"):
        adopt_orphans(folder, 1, STATION)
    assert "6 damaged lines that are no rows skipped" in caplog.text and "refused" not in caplog.text
    index = RecordingIndex(f"sqlite:///{tmp_path / 'nvr.db'}", STATION)
    writer = writer_on(index, journal_path(folder, 0))
    assert writer.flush(10)
    writer.stop()
    assert catalog(index) == ([("cam0/1.mp4", 1), ("cam0/2.mp4", 1)], [])
    index.close()


def test_a_long_outages_journal_is_read_a_batch_at_a_time(tmp_path: Path) -> None:
    """A day of outage at 100 cameras journals some 150,000 rows: counting them at start, and catching up,
    holds one batch in memory, not the journal."""
    path = journal_path(tmp_path, 0)
    rows = 40_000
    writing = CatalogJournal(path, STATION)
    for first in range(0, rows, 1000):
        writing.append([segment(n) for n in range(first, first + 1000)])
    writing.close()

    tracemalloc.start()
    try:
        journal = CatalogJournal(path, STATION)
        assert journal.pending == rows
        seen = 0
        while journal.pending:
            batch = journal.rows(500)
            assert batch[0] == segment(seen), "in order, none skipped"
            seen += len(batch)
            journal.applied(len(batch))
        _now, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    journal.close()
    assert seen == rows
    assert path.read_bytes() == b""
    assert peak < 4_000_000, f"{peak} bytes at the peak for a {rows}-row journal"


@pytest.mark.parametrize(("rows_before", "rows_failed"), [(0, 1), (1, 100)])
def test_rows_that_met_a_full_disk_are_journaled_once_when_space_returns(tmp_path: Path, rows_before: int,
                                                                          rows_failed: int) -> None:
    """The catalog writer keeps rows the journal could not take and appends them again, with the next ones,
    once there is space. A failed write must leave nothing behind: a stale copy made the journal's byte count
    end before the last row, which was then truncated away unwritten; half a line broke the journal. An empty
    journal (as after each catch-up) fails its first write whole, one part of a page long may take part."""
    with small_disk(tmp_path / "disk", 1) as disk:
        journal = CatalogJournal(journal_path(disk, 0), STATION)
        before = [segment(n) for n in range(rows_before)]
        journal.append(before)
        fill_disk(disk / "filler")
        failed = [segment(n) for n in range(100, 100 + rows_failed)]
        with pytest.raises(OSError, match="No space left"):
            journal.append(failed)
        (disk / "filler").unlink()
        journal.append([*failed, segment(1000)])
        read = journal.rows(1000)
        journal.applied(len(read))
        journal.close()
    assert read == [*before, *failed, segment(1000)]


def test_a_journal_that_cannot_be_written_is_said_once_and_its_return_too(tmp_path: Path,
                                                                        monkeypatch: pytest.MonkeyPatch,
                                                                        caplog: pytest.LogCaptureFixture) -> None:
    """A full disk made each recorder log the journal's failure at every retry: a line every 5 s per recorder for
    as long as the disk stayed full, burying what else the log said."""
    import storage.catalog_writer

    monkeypatch.setattr(storage.catalog_writer, "RETRY_MAX_SECONDS", 0.02)
    failures = iter(range(10))

    class FullDisk(CatalogJournal):
        def append(self, rows: Sequence[Row]) -> None:
            if next(failures, None) is not None:
                raise OSError(28, "No space left on device")
            super().append(rows)

    index = RecordingIndex(f"sqlite:///{tmp_path / 'nvr.db'}", STATION)
    writer = CatalogWriter(index, FullDisk(journal_path(tmp_path, 0), STATION))
    writer.start()
    with caplog.at_level("INFO", logger="storage.catalog_writer"):
        writer.put(segment(1))
        wait_for(lambda: catalog(index)[0], 10, "the row written once the journal takes it")
        writer.stop()
    said = [record.getMessage() for record in caplog.records]
    assert len([line for line in said if "journal not written" in line]) == 1, said
    assert len([line for line in said if "journal is written again (1 rows" in line]) == 1, said
    index.close()
