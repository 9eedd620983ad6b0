"""chain of custody and cases: each segment's SHA-256, cases with their items, bookmarks

Revision ID: 0008
Revises: 0007

`segments.sha256` is the hash of the file taken as it was written; segments recorded before this
revision keep NULL (an export says so). A case's items lock their footage against retention while the
case is open.
"""

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("segments", sa.Column("sha256", sa.String(64), nullable=True))
    op.create_table(
        "cases",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("station", sa.String(63), nullable=False),
        sa.Column("title", sa.String(200), nullable=False),
        sa.Column("note", sa.Text, nullable=False),
        sa.Column("status", sa.String(8), nullable=False),
        sa.Column("created_ms", sa.BigInteger, nullable=False),
        sa.Column("created_by", sa.String(64), nullable=True),
        sa.Column("updated_ms", sa.BigInteger, nullable=False),
    )
    op.create_index("ix_cases_station_status", "cases", ["station", "status"])
    op.create_table(
        "case_items",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("case_id", sa.Integer, sa.ForeignKey("cases.id", ondelete="CASCADE"), nullable=False),
        sa.Column("camera_id", sa.Integer, sa.ForeignKey("cameras.id", ondelete="CASCADE"), nullable=False),
        sa.Column("start_ms", sa.BigInteger, nullable=False),
        sa.Column("end_ms", sa.BigInteger, nullable=False),
        sa.Column("note", sa.Text, nullable=False),
        sa.Column("event_id", sa.Integer, nullable=True),
        sa.Column("bookmark_id", sa.Integer, nullable=True),
        sa.Column("added_ms", sa.BigInteger, nullable=False),
        sa.Column("added_by", sa.String(64), nullable=True),
    )
    op.create_index("ix_case_items_camera_start", "case_items", ["camera_id", "start_ms"])
    op.create_index("ix_case_items_case", "case_items", ["case_id"])
    op.create_table(
        "bookmarks",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("station", sa.String(63), nullable=False),
        sa.Column("camera_id", sa.Integer, sa.ForeignKey("cameras.id", ondelete="CASCADE"), nullable=False),
        sa.Column("at_ms", sa.BigInteger, nullable=False),
        sa.Column("note", sa.Text, nullable=False),
        sa.Column("created_ms", sa.BigInteger, nullable=False),
        sa.Column("created_by", sa.String(64), nullable=True),
    )
    op.create_index("ix_bookmarks_camera_at", "bookmarks", ["camera_id", "at_ms"])
    op.create_index("ix_bookmarks_station_at", "bookmarks", ["station", "at_ms"])


def downgrade() -> None:
    op.drop_table("bookmarks")
    op.drop_table("case_items")
    op.drop_table("cases")
    with op.batch_alter_table("segments") as batch:
        batch.drop_column("sha256")
