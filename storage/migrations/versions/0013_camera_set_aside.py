"""camera name taken again: where a removed camera's footage was set aside when its name was taken again

Revision ID: 0013
Revises: 0012

Rows of the old camera that reach the catalog only after the name was taken again (a recorder's journal)
go to the set-aside camera when they began before the old camera's removal (storage/index.py).
"""

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("cameras", sa.Column("set_aside_until_ms", sa.BigInteger, nullable=True))
    op.add_column("cameras", sa.Column("set_aside_id", sa.Integer, nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("cameras") as table:
        table.drop_column("set_aside_id")
        table.drop_column("set_aside_until_ms")
