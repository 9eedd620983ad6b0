"""indexes for a full catalog: a camera's segments read from the index alone, long events found apart

Revision ID: 0014
Revises: 0013

A month of 200 cameras is 8.6 million segment rows of about 400 bytes (their keyframe lists). The camera index
now carries each segment's end and size, so a camera's recordings over a week (the health page), its storage
figures and the station's total are read from the index without visiting the rows (design/catalog.md). Events
that last over an hour, or have not ended, get a small partial index of their own: an events query then reads the
window's events by their start and adds those few, instead of walking back through every older event.
"""

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None

LONG_EVENT = sa.text("(end_ms IS NULL OR end_ms - start_ms > 3600000)")  # as storage/models.py had it at 0014


def upgrade() -> None:
    op.create_index("ix_segments_camera_span", "segments", ["camera_id", "start_ms", "end_ms", "bytes"])
    op.drop_index("ix_segments_camera_start", "segments")
    op.create_index("ix_events_long", "events", ["station", "start_ms"], sqlite_where=LONG_EVENT,
                    postgresql_where=LONG_EVENT)


def downgrade() -> None:
    op.drop_index("ix_events_long", "events")
    op.create_index("ix_segments_camera_start", "segments", ["camera_id", "start_ms"])
    op.drop_index("ix_segments_camera_span", "segments")
