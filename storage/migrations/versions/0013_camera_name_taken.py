"""camera name taken again: when a removed camera's name was taken again, and where its footage was set aside

Revision ID: 0013
Revises: 0012

Rows of the old camera that reach the catalog only after the name was taken again (a recorder's journal)
go to the set-aside camera by their time (storage/index.py).
"""

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("cameras", sa.Column("taken_ms", sa.BigInteger, nullable=True))
    op.add_column("cameras", sa.Column("set_aside_id", sa.Integer, nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("cameras") as table:
        table.drop_column("set_aside_id")
        table.drop_column("taken_ms")
