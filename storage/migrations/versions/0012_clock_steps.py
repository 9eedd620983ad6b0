"""clock steps: forward steps of a station's clock, so that retention judges footage stamped before one by its real age

Revision ID: 0012
Revises: 0011

`clock_readings` holds each station's last reading of its clock (boot id, time since boot, wall time, and the
boot's start as its first reading put it); `clock_steps` the forward steps found between two readings of one boot
(storage/clock_watch.py).
"""

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "clock_readings",
        sa.Column("station", sa.String(63), primary_key=True),
        sa.Column("boot", sa.String(64), nullable=False),
        sa.Column("since_boot_ms", sa.BigInteger, nullable=False),
        sa.Column("wall_ms", sa.BigInteger, nullable=False),
        sa.Column("boot_wall_ms", sa.BigInteger, nullable=False),
    )
    op.create_table(
        "clock_steps",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("station", sa.String(63), nullable=False),
        sa.Column("before_ms", sa.BigInteger, nullable=False),
        sa.Column("after_ms", sa.BigInteger, nullable=False),
        sa.Column("since_ms", sa.BigInteger, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("clock_steps")
    op.drop_table("clock_readings")
