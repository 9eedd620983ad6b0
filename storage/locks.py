"""Footage locked as evidence: a segment overlapping an item of an open case. Retention never deletes it,
and the storage figures count it; both ask the catalog with this one condition."""

from __future__ import annotations

from sqlalchemy import ColumnElement, exists

from storage.models import CaseItemRow, CaseRow, SegmentRow

OPEN = "open"


def locked_segment() -> ColumnElement[bool]:
    """True for a `segments` row that overlaps an item of an open case (the camera id implies the station)."""
    return exists().where(CaseItemRow.camera_id == SegmentRow.camera_id, CaseItemRow.start_ms < SegmentRow.end_ms,
                          CaseItemRow.end_ms > SegmentRow.start_ms, CaseRow.id == CaseItemRow.case_id,
                          CaseRow.status == OPEN)
