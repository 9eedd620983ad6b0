"""ids never reused: cases, case items and bookmarks made again with SQLite's AUTOINCREMENT

Revision ID: 0017
Revises: 0016

SQLite gave a new row the highest id + 1, so the newest case or bookmark deleted handed its id to the next one made
(an audit's "case 4" named two cases; a case item's bookmark id pointed at an unrelated bookmark). The tables are
made again with AUTOINCREMENT (foreign keys are off for the upgrade: storage/schema.py); ids already handed out and
freed before this revision may still be taken once. PostgreSQL's sequences never hand an id out twice: nothing to do.
"""

from alembic import op

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None

TABLES = ("cases", "case_items", "bookmarks")


def _rebuild(autoincrement: bool) -> None:
    if op.get_bind().dialect.name != "sqlite":
        return
    for table in TABLES:
        with op.batch_alter_table(table, recreate="always", table_kwargs={"sqlite_autoincrement": autoincrement}):
            pass


def upgrade() -> None:
    _rebuild(True)


def downgrade() -> None:
    _rebuild(False)
