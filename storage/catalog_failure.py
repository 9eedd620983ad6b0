"""What to say when the catalog does not answer, in one line."""

from __future__ import annotations

from sqlalchemy.exc import DBAPIError, SQLAlchemyError


def catalog_failure(exc: SQLAlchemyError) -> str:
    """The database's own first line (a PostgreSQL's address, SQLite's "database disk image is malformed"), without
    the statement or its parameters."""
    reason = str(exc.orig if isinstance(exc, DBAPIError) else exc).strip().splitlines()
    return reason[0] if reason else type(exc).__name__
