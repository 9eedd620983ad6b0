"""cameras live in the catalog: their settings, who manages them, which recorder reads them

Revision ID: 0005
Revises: 0004

`settings` is the camera's JSON settings (URLs, title, location, detection); `managed_by` is `config`
(config.yaml's list, re-read at each start) or `catalog` (added or changed through the API or the CLI);
`recorder` is the recorder process that reads it; `removed_ms` marks a camera removed (its footage
stays until retention).
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

COLUMNS = (
    sa.Column("settings", sa.Text(), nullable=True),
    sa.Column("managed_by", sa.String(16), nullable=True),
    sa.Column("recorder", sa.Integer(), nullable=True),
    sa.Column("updated_ms", sa.BigInteger(), nullable=True),
    sa.Column("removed_ms", sa.BigInteger(), nullable=True),
)


def upgrade() -> None:
    for column in COLUMNS:
        op.add_column("cameras", column)


def downgrade() -> None:
    with op.batch_alter_table("cameras") as batch:
        for column in COLUMNS:
            batch.drop_column(column.name)
