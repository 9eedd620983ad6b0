"""Footage locked as evidence: a segment overlapping an item of an open case. Retention never deletes it,
and the storage figures count it; both ask the catalog with this one condition.

On PostgreSQL a deletion's statement sees only the cases committed when it began: a case committed while it ran
could lose a segment it locks. What locks footage (a case made, a range added, a case opened again) and what
deletes it therefore take turns, through one advisory lock of the database: deletions share it (the stations of
a district do not wait for each other), a change to cases takes it alone. SQLite writes one transaction at a
time, which does the same."""

from __future__ import annotations

from sqlalchemy import ColumnElement, exists, text
from sqlalchemy.orm import Session

from storage.models import CaseItemRow, CaseRow, SegmentRow

OPEN = "open"
EVIDENCE_TURN = 0x4E56_5245_5649_4445  # "NVREVIDE": the same on every box sharing the database


def locked_segment() -> ColumnElement[bool]:
    """True for a `segments` row that overlaps an item of an open case (the camera id implies the station)."""
    return exists().where(CaseItemRow.camera_id == SegmentRow.camera_id, CaseItemRow.start_ms < SegmentRow.end_ms,
                          CaseItemRow.end_ms > SegmentRow.start_ms, CaseRow.id == CaseItemRow.case_id,
                          CaseRow.status == OPEN)


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
