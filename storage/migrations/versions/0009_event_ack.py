"""events are acknowledged: by whom, when, with the officer's note

Revision ID: 0009
Revises: 0008

`ack_ms` is NULL until somebody acknowledges the event; `ack_by` is their user name and `ack_note` what
they wrote (may be empty).
"""

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

COLUMNS = (
    sa.Column("ack_ms", sa.BigInteger(), nullable=True),
    sa.Column("ack_by", sa.String(64), nullable=True),
    sa.Column("ack_note", sa.Text(), nullable=True),
)


def upgrade() -> None:
    for column in COLUMNS:
        op.add_column("events", column)


def downgrade() -> None:
    with op.batch_alter_table("events") as batch:
        for column in COLUMNS:
            batch.drop_column(column.name)
