"""case items follow their event: an item made of an event still going on runs to its end once it has ended

Revision ID: 0015
Revises: 0014

Only items that took their range from the event (no end typed) follow it (storage/cases.py `follow_event`).
"""

import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("case_items", sa.Column("follows_event", sa.Boolean, nullable=False, server_default=sa.false()))


def downgrade() -> None:
    with op.batch_alter_table("case_items") as table:
        table.drop_column("follows_event")
