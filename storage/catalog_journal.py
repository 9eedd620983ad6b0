"""The catalog writer's journal: a recorder's segment and outage rows are appended here (JSON lines,
fsynced) before they are written to the catalog, and applied from here in order. Rows therefore survive a
catalog that is away for hours (a post's link to the district's PostgreSQL) and the recorder being
restarted meanwhile; the journal is emptied each time the catalog has caught up.

`<name>.jsonl` holds the rows; `<name>.applied` the byte offset up to which they are in the catalog. The
offset is written after each committed batch: a crash between the commit and that write makes the batch be
applied again, which the catalog's writes tolerate (storage/index.py: a segment is added once per path, an
outage opened once per start and closed only by an end after it).
"""

from __future__ import annotations

import contextlib
import errno
import itertools
import json
import logging
import os
from collections import deque
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from storage.catalog_rows import OutageEnd, OutageStart, Row
from storage.index import Segment

log = logging.getLogger(__name__)
JOURNAL_DIR = "catalog-journal"  # under the data folder
ADOPT_BATCH = 10_000


def journal_path(data_dir: Path, shard: int) -> Path:
    return data_dir / JOURNAL_DIR / f"recorder-{shard}.jsonl"


def _encode(row: Row, station: str) -> bytes:
    fields: dict[str, Any]
    match row:
        case Segment():
            fields = {"kind": "segment", "camera": row.camera, "path": row.path, "start_ms": row.start_ms,
                      "end_ms": row.end_ms, "bytes": row.bytes, "keyframes_ms": list(row.keyframes_ms),
                      "sha256": row.sha256}
        case OutageStart(camera, start_ms, reason):
            fields = {"kind": "outage_start", "camera": camera, "start_ms": start_ms, "reason": reason}
        case OutageEnd(camera, end_ms):
            fields = {"kind": "outage_end", "camera": camera, "end_ms": end_ms}
    return json.dumps({"station": station, **fields}, separators=(",", ":")).encode() + b"\n"


def _read(line: bytes) -> tuple[str, Row] | None:
    """A line's station and row; None when it is none (a damaged file: replaying it stopped every start)."""
    try:
        fields = json.loads(line)
        station = fields.pop("station")
        return (station, _decode(fields)) if isinstance(station, str) else None
    except (ValueError, KeyError, TypeError, AttributeError):
        return None


def _decode(fields: dict[str, Any]) -> Row:
    """The row a line's fields describe; ValueError when they describe none (a damaged line that is still JSON: an
    unknown kind was taken for an outage's end, and text reached the catalog's integer columns, found in review)."""
    kind = fields.pop("kind")
    row: Row
    if kind == "segment":
        row = Segment(fields["camera"], fields["path"], fields["start_ms"], fields["end_ms"], fields["bytes"],
                      tuple(fields["keyframes_ms"]), None, fields["sha256"])
        numbers = [row.start_ms, row.end_ms, row.bytes, *row.keyframes_ms]
        texts = [row.camera, row.path] + ([row.sha256] if row.sha256 is not None else [])
    elif kind == "outage_start":
        row = OutageStart(fields["camera"], fields["start_ms"], fields["reason"])
        numbers, texts = [row.start_ms], [row.camera, row.reason]
    elif kind == "outage_end":
        row = OutageEnd(fields["camera"], fields["end_ms"])
        numbers, texts = [row.end_ms], [row.camera]
    else:
        raise ValueError(f"no row of kind {kind!r}")
    if not all(type(n) is int for n in numbers) or not all(isinstance(t, str) for t in texts):
        raise ValueError(f"a {kind} row with fields of the wrong type")
    return row


class CatalogJournal:
    """Not thread-safe: the catalog writer's thread alone uses it. Rows not yet in the catalog stay on disk and
    are read a batch at a time: an outage of a day at 100 cameras journals some 150,000 rows, which must cost
    the recorder's memory nothing, while it is recorded nor when it is caught up after a restart."""

    def __init__(self, path: Path, station: str) -> None:
        self.path = path
        self.station = station
        self._ours = json.dumps({"station": station}, separators=(",", ":"))[:-1].encode() + b","
        self._applied_path = path.with_suffix(".applied")
        path.parent.mkdir(parents=True, exist_ok=True)
        self._pending = 0  # rows of ours not yet in the catalog
        self._size = 0  # bytes in the file, all of them whole lines
        self._applied = self._load()
        self._ahead: deque[tuple[Row, int]] = deque()  # rows read from the file, with their bytes, not yet applied
        self._read_at = self._applied  # where the next line to read starts
        # Unbuffered: after a failed write a buffered file keeps the rows and writes them again with the next
        # ones, or leaves half a line; either would make the byte counts below lie and lose rows.
        self._file = path.open("ab", buffering=0)
        self._reader = path.open("rb")

    @property
    def pending(self) -> int:
        return self._pending

    def rows(self, limit: int) -> list[Row]:
        """The first `limit` rows not yet in the catalog, in order."""
        self._reader.seek(self._read_at)
        skipped = 0  # bytes of another station's lines, counted with the next row of ours
        while len(self._ahead) < limit and self._read_at + skipped < self._size:
            line = self._reader.readline()
            read = _read(line) if line.startswith(self._ours) else None
            if read is not None:
                self._ahead.append((read[1], skipped + len(line)))
                self._read_at += skipped + len(line)
                skipped = 0
            else:  # another station's, or no row (counted at the start)
                skipped += len(line)
        return [row for row, _size in itertools.islice(self._ahead, limit)]

    def append(self, rows: Sequence[Row]) -> None:
        """Rows on disk (fsynced) before they go to the catalog; OSError (a full disk) leaves them out, and
        nothing of them in the file."""
        data = memoryview(b"".join(_encode(row, self.station) for row in rows))
        os.ftruncate(self._file.fileno(), self._size)  # what a failed append left, if undoing it failed too
        try:
            written = 0
            while written < len(data):  # a nearly full disk takes part of a write
                step = self._file.write(data[written:])
                if not step:
                    raise OSError(errno.EIO, "the journal took nothing of a write")
                written += step
            os.fsync(self._file.fileno())
        except OSError:
            with contextlib.suppress(OSError):  # frees space, so it works on a full disk; else done above next time
                os.ftruncate(self._file.fileno(), self._size)
            raise
        self._size += len(data)
        self._pending += len(rows)

    def applied(self, count: int) -> None:
        """The first `count` rows returned by `rows` are in the catalog; once none is left, the journal is
        emptied."""
        for _ in range(count):
            self._applied += self._ahead.popleft()[1]
        self._pending -= count
        if not self._pending:
            self._file.truncate(0)
            self._applied = self._read_at = self._size = 0
            self._ahead.clear()
            self._applied_path.unlink(missing_ok=True)
        elif count:
            partial = self._applied_path.with_suffix(".tmp")
            partial.write_text(str(self._applied))
            partial.replace(self._applied_path)

    def close(self) -> None:
        self._file.close()
        self._reader.close()

    def _load(self) -> int:
        """Count what an earlier run left past the applied offset, a line at a time. A line cut short by a power
        loss is dropped (its segment file is found again by reconciliation); another station's rows are
        refused."""
        if not self.path.exists():
            self._applied_path.unlink(missing_ok=True)
            return 0
        try:
            applied = int(self._applied_path.read_text())
        except (OSError, ValueError):
            applied = 0
        if applied > self.path.stat().st_size:  # the journal was emptied before the offset file went
            applied = 0
        foreign: dict[str, int] = {}
        unreadable = 0
        with self.path.open("r+b") as journal:
            for line in journal:
                if not line.endswith(b"\n"):
                    log.warning("catalog journal %s: dropped a last line cut short (%d bytes)", self.path.name,
                                len(line))
                    journal.truncate(self._size)
                    break
                if self._size >= applied:
                    read = _read(line)
                    if read is None or (read[0] == self.station) != line.startswith(self._ours):
                        unreadable += 1  # no row, or not as this code writes this station's rows
                    elif read[0] == self.station:
                        self._pending += 1
                    else:
                        foreign[read[0]] = foreign.get(read[0], 0) + 1
                self._size += len(line)
        for owner, count in foreign.items():
            log.error("catalog journal %s: %d rows of station %r refused: this is station %r", self.path.name,
                      count, owner, self.station)
        if unreadable:  # their segments' files are found again by reconciliation
            log.error("catalog journal %s: %d damaged lines that are no rows skipped", self.path.name, unreadable)
        if not self._pending:  # nothing of ours left to write
            self.path.write_bytes(b"")
            self._applied_path.unlink(missing_ok=True)
            self._size = 0
            return 0
        log.info("catalog journal %s: %d rows to write to the catalog", self.path.name, self._pending)
        return applied


def adopt_orphans(data_dir: Path, shards: int, station: str) -> None:
    """The journals of recorders that no longer exist (the station now runs fewer) go to recorder 0's, before
    the recorders start: their rows are still to be written."""
    for path in sorted((data_dir / JOURNAL_DIR).glob("recorder-*.jsonl")):
        shard = path.stem.removeprefix("recorder-")
        if not shard.isdigit() or int(shard) < shards:
            continue
        orphan, heir = CatalogJournal(path, station), CatalogJournal(journal_path(data_dir, 0), station)
        try:
            while orphan.pending:
                rows = orphan.rows(ADOPT_BATCH)
                heir.append(rows)
                orphan.applied(len(rows))
        finally:
            heir.close()
            orphan.close()
        path.unlink()
        path.with_suffix(".applied").unlink(missing_ok=True)
        log.info("catalog journal %s: its rows go to recorder 0's", path.name)
