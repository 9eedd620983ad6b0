"""events

Revision ID: 0003
Revises: 0002
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "events",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("camera_id", sa.Integer, sa.ForeignKey("cameras.id", ondelete="CASCADE"), nullable=False),
        sa.Column("type", sa.String(32), nullable=False),
        sa.Column("start_ms", sa.BigInteger, nullable=False),
        sa.Column("end_ms", sa.BigInteger, nullable=True),
        sa.Column("score", sa.Float, nullable=False),
        sa.Column("boxes", sa.Text, nullable=False),
        sa.Column("snapshot", sa.String(512), nullable=True),
        sa.Column("updated_ms", sa.BigInteger, nullable=False),
    )
    op.create_index("ix_events_camera_start", "events", ["camera_id", "start_ms"])
    op.create_index("ix_events_start", "events", ["start_ms"])


def downgrade() -> None:
    op.drop_table("events")
