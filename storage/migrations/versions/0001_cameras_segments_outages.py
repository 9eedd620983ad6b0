"""cameras, segments, outages

Revision ID: 0001
Revises:
"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "cameras",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("name", sa.String(63), nullable=False, unique=True),
    )
    op.create_table(
        "segments",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("camera_id", sa.Integer, sa.ForeignKey("cameras.id", ondelete="CASCADE"), nullable=False),
        sa.Column("path", sa.String(512), nullable=False, unique=True),
        sa.Column("start_ms", sa.BigInteger, nullable=False),
        sa.Column("end_ms", sa.BigInteger, nullable=False),
        sa.Column("bytes", sa.BigInteger, nullable=False),
        sa.Column("keyframes_ms", sa.Text, nullable=False),
    )
    op.create_index("ix_segments_camera_start", "segments", ["camera_id", "start_ms"])
    op.create_index("ix_segments_start", "segments", ["start_ms"])
    op.create_table(
        "outages",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("camera_id", sa.Integer, sa.ForeignKey("cameras.id", ondelete="CASCADE"), nullable=False),
        sa.Column("start_ms", sa.BigInteger, nullable=False),
        sa.Column("end_ms", sa.BigInteger, nullable=True),
        sa.Column("reason", sa.Text, nullable=False),
    )
    op.create_index("ix_outages_camera_start", "outages", ["camera_id", "start_ms"])


def downgrade() -> None:
    op.drop_table("outages")
    op.drop_table("segments")
    op.drop_table("cameras")
