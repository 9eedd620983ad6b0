"""district cases: cases of the district server holding items of several posts, and each post's mirror case

Revision ID: 0011
Revises: 0010

Written only by `nvr district`; each involved post keeps a case of its own that mirrors the district case
(it locks the footage there), whose id is kept in `district_case_posts`.
"""

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "district_cases",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("title", sa.String(200), nullable=False),
        sa.Column("note", sa.Text, nullable=False),
        sa.Column("status", sa.String(8), nullable=False),
        sa.Column("created_ms", sa.BigInteger, nullable=False),
        sa.Column("created_by", sa.String(64), nullable=True),
        sa.Column("updated_ms", sa.BigInteger, nullable=False),
    )
    op.create_table(
        "district_case_items",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("case_id", sa.Integer, sa.ForeignKey("district_cases.id", ondelete="CASCADE"), nullable=False),
        sa.Column("station", sa.String(63), nullable=False),
        sa.Column("camera", sa.String(63), nullable=False),
        sa.Column("start_ms", sa.BigInteger, nullable=False),
        sa.Column("end_ms", sa.BigInteger, nullable=False),
        sa.Column("note", sa.Text, nullable=False),
        sa.Column("added_ms", sa.BigInteger, nullable=False),
        sa.Column("added_by", sa.String(64), nullable=True),
        sa.Column("post_item_id", sa.Integer, nullable=False),
    )
    op.create_index("ix_district_case_items_case", "district_case_items", ["case_id"])
    op.create_table(
        "district_case_posts",
        sa.Column("case_id", sa.Integer, sa.ForeignKey("district_cases.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("station", sa.String(63), primary_key=True),
        sa.Column("post_case_id", sa.Integer, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("district_case_posts")
    op.drop_table("district_case_items")
    op.drop_table("district_cases")
