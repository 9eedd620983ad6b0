"""Schema migrations as one locked step: safe when several boxes start at once on one PostgreSQL.

PostgreSQL: a transaction-scoped advisory lock serializes the upgrades; whoever waited then finds the
schema at head and does nothing. SQLite: BEGIN IMMEDIATE takes the write lock for the whole upgrade,
with foreign keys off on that connection, because the table rebuilds SQLite needs for ALTER would
otherwise cascade a dropped table's delete into every table that references it.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import Connection, inspect, text
from sqlalchemy.engine import Engine

if TYPE_CHECKING:
    from alembic.config import Config as AlembicConfig

MIGRATIONS = Path(__file__).with_name("migrations")
ADVISORY_LOCK_KEY = 0x4E56_524D_4947_5254  # "NVRMIGRT": the same on every box, unique to these migrations
# the newest migration's revision, read from the file names (each migration's revision is its file's number:
# tests/test_migrations.py holds this to alembic's head) without importing alembic
HEAD_REVISION = max(path.name[:4] for path in (MIGRATIONS / "versions").glob("[0-9][0-9][0-9][0-9]_*.py"))


def _alembic_config(station: str) -> AlembicConfig:
    """Alembic is imported here, not with the module: the recorder processes and most commands open the index
    without migrating, and it was a sixth of a recorder's start-up (0.2 of 1.25 CPU-s)."""
    from alembic.config import Config as AlembicConfig

    cfg = AlembicConfig()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.attributes["station"] = station  # rows older than station scoping become this station's
    return cfg


def _lock(connection: Connection) -> None:
    if connection.dialect.name == "postgresql":
        connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": ADVISORY_LOCK_KEY})
    else:  # SQLite: the pragma only takes effect outside a transaction, so before BEGIN
        connection.exec_driver_sql("PRAGMA foreign_keys=OFF")
        connection.exec_driver_sql("BEGIN IMMEDIATE")


def _unlock(connection: Connection) -> None:
    """End the transaction (nothing left to roll back after a commit) and restore the pooled connection."""
    connection.rollback()
    if connection.dialect.name == "sqlite":
        connection.exec_driver_sql("PRAGMA foreign_keys=ON")
        connection.commit()


def upgrade(engine: Engine, station: str) -> str | None:
    """Bring the schema to the newest revision under the migration lock; returns that revision.

    `station` owns the rows that predate station scoping: upgrade a shared database first from the
    box that wrote them. A database already at HEAD_REVISION is left alone without loading alembic (0.2 CPU-s
    of every command and station start).
    """
    if stored_revision(engine) == HEAD_REVISION:
        return HEAD_REVISION
    from alembic import command

    cfg = _alembic_config(station)
    with engine.connect() as connection:
        try:
            _lock(connection)
            cfg.attributes["connection"] = connection
            command.upgrade(cfg, "head")
            connection.commit()
        finally:
            _unlock(connection)
    return stored_revision(engine)


def stored_revision(engine: Engine) -> str | None:
    """The revision the database says it is at; None for a new database (no version table yet)."""
    with engine.connect() as connection:
        if not inspect(connection).has_table("alembic_version"):
            return None
        return connection.execute(text("SELECT version_num FROM alembic_version")).scalar()

