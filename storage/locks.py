"""Footage locked as evidence: a segment overlapping an item of an open case. Retention never deletes it,
and the storage figures count it; both ask the catalog with this one condition.

On PostgreSQL a deletion's statement sees only the cases committed when it began: a case committed while it ran
could lose a segment it locks. What locks footage (a case made, a range added, a case opened again) and what
deletes it therefore take turns, through one advisory lock of the database: deletions share it (the stations of
a district do not wait for each other), a change to cases takes it alone. SQLite writes one transaction at a
time, which does the same."""

from __future__ import annotations

from sqlalchemy import ColumnElement, Select, and_, exists, select, text
from sqlalchemy.orm import Session

from storage.models import CaseItemRow, CaseRow, SegmentRow

OPEN = "open"
EVIDENCE_TURN = 0x4E56_5245_5649_4445  # "NVREVIDE": the same on every box sharing the database
LONGEST_SEGMENT_MS = 86_400_000  # a segment starts at most this long before an item it overlaps (see locked_rows)


def locked_segment() -> ColumnElement[bool]:
    """True for a `segments` row that overlaps an item of an open case (the camera id implies the station)."""
    return exists().where(CaseItemRow.camera_id == SegmentRow.camera_id, CaseItemRow.start_ms < SegmentRow.end_ms,
                          CaseItemRow.end_ms > SegmentRow.start_ms, CaseRow.id == CaseItemRow.case_id,
                          CaseRow.status == OPEN)


def locked_rows(station: str) -> Select[int, int, int]:
    """(id, camera id, bytes) of a station's segments that open cases lock, each once: from the open cases' items to
    the segments they overlap, by the index (camera, start). `locked_segment` asked of every row of a catalog of
    millions took 40 s and more (the storage figures)."""
    overlaps = and_(SegmentRow.camera_id == CaseItemRow.camera_id, SegmentRow.start_ms < CaseItemRow.end_ms,
                    SegmentRow.end_ms > CaseItemRow.start_ms,
                    SegmentRow.start_ms > CaseItemRow.start_ms - LONGEST_SEGMENT_MS)  # a lower bound the index seeks
    # the station by its cases, not by the segments' column: with that one, and no case open, SQLite walked every
    # segment of the station by its index (station, start) to look each one up in the items
    return (select(SegmentRow.id, SegmentRow.camera_id, SegmentRow.bytes).distinct()
            .select_from(CaseRow).join(CaseItemRow, CaseRow.id == CaseItemRow.case_id).join(SegmentRow, overlaps)
            .where(CaseRow.status == OPEN, CaseRow.station == station))


def footage_deletion_turn(session: Session) -> None:
    """Before a deletion that spares locked footage: wait for any change to cases under way (PostgreSQL)."""
    _take(session, "pg_advisory_xact_lock_shared")


def case_change_turn(session: Session) -> None:
    """Before a change that may lock footage: wait for the deletions under way, and hold off new ones until this
    transaction ends (PostgreSQL)."""
    _take(session, "pg_advisory_xact_lock")


def _take(session: Session, function: str) -> None:
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text(f"SELECT {function}(:key)"), {"key": EVIDENCE_TURN})
