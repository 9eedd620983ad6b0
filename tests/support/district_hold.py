"""A post's case made to hold a district case's items, as the district server's mirror makes it
(nvr/district/mirror.py), written straight into the post's catalog."""

from __future__ import annotations

from storage.clock import now_ms
from storage.index import RecordingIndex
from storage.models import DistrictCasePostRow, DistrictCaseRow


def hold_for_district(index: RecordingIndex, post_case_id: int) -> int:
    """The id of a new district case whose part at this post is case `post_case_id`."""
    now = now_ms()
    with index.session() as session, session.begin():
        row = DistrictCaseRow(title="Vụ việc quận", note="", status="open", created_ms=now, created_by="district",
                              updated_ms=now)
        session.add(row)
        session.flush()
        session.add(DistrictCasePostRow(case_id=row.id, station=index.station, post_case_id=post_case_id))
        return row.id
