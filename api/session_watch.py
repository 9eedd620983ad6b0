"""Account changes the API did not make itself (`nvr user` on the station's console, another station on the
same database) and sessions that expire reach the open connections within RECHECK_SECONDS; the API's own
changes reach them at once (api/connections.py)."""

from __future__ import annotations

import asyncio
import logging

from sqlalchemy.exc import SQLAlchemyError

from api.connections import Connections
from storage.accounts import AccountStore, User

log = logging.getLogger(__name__)
RECHECK_SECONDS = 2.0


def _read(accounts: AccountStore, sessions: set[str]) -> dict[str, User | None]:
    return {session: accounts.user_for_digest(session) for session in sessions}


async def watch_sessions(connections: Connections, accounts: AccountStore) -> None:
    """Runs until cancelled; a database that does not answer ends no connection."""
    while True:
        await asyncio.sleep(RECHECK_SECONDS)
        sessions, changes = connections.sessions(), connections.changes
        if not sessions:
            continue
        try:
            users = await asyncio.to_thread(_read, accounts, sessions)
        except SQLAlchemyError as exc:
            log.warning("open sessions not rechecked this time: %s", type(exc).__name__)
            continue
        if connections.changes == changes:  # else the API changed accounts meanwhile: this reading may be older
            await connections.recheck(users)
