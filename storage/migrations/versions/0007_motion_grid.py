"""motion grids: where each camera saw motion, per minute, for motion search

Revision ID: 0007
Revises: 0006

One row per camera and minute with motion: `seconds` is a 60-bit mask of the seconds that saw some,
`cells` their 16x9-bit grids (18 bytes each) in second order. The primary key (camera, minute) is the
index a search reads along.
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "motion_grids",
        sa.Column("station", sa.String(63), nullable=False),
        sa.Column("camera_id", sa.Integer, sa.ForeignKey("cameras.id", ondelete="CASCADE"), nullable=False),
        sa.Column("minute_ms", sa.BigInteger, nullable=False),
        sa.Column("seconds", sa.BigInteger, nullable=False),
        sa.Column("cells", sa.LargeBinary, nullable=False),
        sa.PrimaryKeyConstraint("camera_id", "minute_ms"),
    )


def downgrade() -> None:
    op.drop_table("motion_grids")
