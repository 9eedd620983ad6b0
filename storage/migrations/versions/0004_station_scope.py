"""station scope: every catalog row belongs to a station

Revision ID: 0004
Revises: 0003

Existing rows become the rows of the station that runs this upgrade (storage.schema passes its id):
before this revision a database held exactly one station's rows. Camera names become unique per
station, segment paths unique per station.
"""

import sqlalchemy as sa
from alembic import context, op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

SCOPED = ("cameras", "segments", "outages", "events", "audit")
# SQLite's inline UNIQUE constraints have no name; batch mode names them by this convention to drop them
NAMING = {"uq": "uq_%(table_name)s_%(column_0_name)s"}
OLD_UNIQUE = {"cameras": "name", "segments": "path"}
NEW_UNIQUE = {"cameras": "uq_cameras_station_name", "segments": "uq_segments_station_path"}
NEW_INDEX = {"segments": ("ix_segments_start", "ix_segments_station_start"),
             "events": ("ix_events_start", "ix_events_station_start")}


def _old_unique_name(table: str) -> str:
    column = OLD_UNIQUE[table]
    return f"{table}_{column}_key" if op.get_bind().dialect.name == "postgresql" else f"uq_{table}_{column}"


def upgrade() -> None:
    station = context.config.attributes["station"]
    for table in SCOPED:
        # the default fills the existing rows, then goes: every new row must name its station
        op.add_column(table, sa.Column("station", sa.String(63), nullable=False, server_default=station))
        with op.batch_alter_table(table, naming_convention=NAMING) as batch:
            batch.alter_column("station", existing_type=sa.String(63), existing_nullable=False, server_default=None)
            if table in OLD_UNIQUE:
                batch.drop_constraint(_old_unique_name(table), type_="unique")
                batch.create_unique_constraint(NEW_UNIQUE[table], ["station", OLD_UNIQUE[table]])
        if table in NEW_INDEX:
            old, new = NEW_INDEX[table]
            op.drop_index(old, table_name=table)
            op.create_index(new, table, ["station", "start_ms"])


def downgrade() -> None:
    for table in reversed(SCOPED):
        if table in NEW_INDEX:
            old, new = NEW_INDEX[table]
            op.drop_index(new, table_name=table)
            op.create_index(old, table, ["start_ms"])
        with op.batch_alter_table(table, naming_convention=NAMING) as batch:
            if table in OLD_UNIQUE:
                batch.drop_constraint(NEW_UNIQUE[table], type_="unique")
                batch.create_unique_constraint(_old_unique_name(table), [OLD_UNIQUE[table]])
            batch.drop_column("station")
