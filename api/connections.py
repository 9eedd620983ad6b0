"""Who holds what open: every event stream (WebSocket) and live view with the account and the session that
opened it, so that logging out, a new password or a revoked grant ends them at once, and so that one account
holds at most its share of them."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from typing import Literal

from storage.accounts import User, token_digest
from storage.machine_keys import is_machine_key

log = logging.getLogger(__name__)
Kind = Literal["websocket", "live"]
Stop = Callable[[], Awaitable[None]]
NAMES: dict[Kind, str] = {"websocket": "event streams", "live": "live views"}


@dataclass(frozen=True)
class Closure:
    """Why a connection was ended: the WebSocket close code and reason (the audit log's detail for a live view)."""

    code: int
    reason: str


LOGGED_OUT = Closure(4401, "logged out")
PASSWORD_CHANGED = Closure(4401, "the password was changed: log in again")
SESSION_ENDED = Closure(4401, "the session has ended: log in again")
KEY_REVOKED = Closure(4401, "the machine key was revoked")
NOT_GRANTED = Closure(4403, "this camera is no longer granted")


class TooMany(Exception):
    """One account asked for more connections of a kind than `server.max_*_per_user` allows."""

    def __init__(self, kind: Kind, limit: int) -> None:
        self.closure = Closure(4429, f"too many {NAMES[kind]} open for this account (limit {limit})")
        super().__init__(self.closure.reason)


@dataclass(eq=False)
class Connection:
    """One open event stream or live view. `user` is replaced when the account's grants change: an event
    stream checks it for every event it delivers."""

    kind: Kind
    user: User
    session: str  # token_digest of the session's token: the registry never holds the secret
    camera: str | None  # a live view's camera
    machine: bool  # opened with a machine key, which outlives a password change
    closure: Closure | None = field(default=None, init=False)  # set when the registry ended the connection
    _stop: Stop | None = field(default=None, init=False, repr=False)
    _ended: asyncio.Event = field(default_factory=asyncio.Event, init=False, repr=False)

    async def wait_ended(self) -> None:
        await self._ended.wait()

    async def on_end(self, stop: Stop) -> None:
        """`stop` frees what the connection holds when the registry ends it; at once if it already has."""
        self._stop = stop
        if self.closure is not None:
            await stop()

    def end(self, closure: Closure) -> Stop | None:
        """Mark the connection ended (the first closure counts); what is left to stop, if anything."""
        if self.closure is not None:
            return None
        self.closure = closure
        self._ended.set()
        return self._stop


class Connections:
    """The registry, on the event loop. Routes that change accounts notify it; `api/session_watch.py` brings it
    the changes made elsewhere."""

    def __init__(self, limits: Mapping[Kind, int]) -> None:
        self._limits = dict(limits)
        self._open: set[Connection] = set()
        self.changes = 0  # counts the notifications, for a recheck to know its reading may be older

    def open(self, kind: Kind, user: User, token: str, camera: str | None = None) -> Connection:
        """A new connection of `user`'s session `token`; TooMany when the account holds its limit already."""
        limit = self._limits[kind]
        if sum(1 for held in self._open if held.kind == kind and held.user.id == user.id) >= limit:
            raise TooMany(kind, limit)
        held = Connection(kind, user, token_digest(token), camera, is_machine_key(token))
        self._open.add(held)
        return held

    def release(self, held: Connection) -> None:
        """The connection went away by itself (the viewer left)."""
        self._open.discard(held)

    def sessions(self) -> set[str]:
        return {held.session for held in self._open}

    async def end_session(self, token: str, closure: Closure) -> None:
        """Logging out: the connections opened with that token."""
        await self.end_digest(token_digest(token), closure)

    async def end_digest(self, session: str, closure: Closure) -> None:
        """The connections opened with the token (or machine key) whose `token_digest` this is."""
        self.changes += 1
        await self._end((held for held in self._open if held.session == session), closure)

    async def end_user(self, user_id: int, closure: Closure) -> None:
        """A new password: every connection of the account opened by a session, whichever session opened it
        (the asking one too); those of its machine keys go on, as the keys do."""
        self.changes += 1
        await self._end((held for held in self._open if held.user.id == user_id and not held.machine), closure)

    async def regrant(self, user: User) -> None:
        """The account's grants (or role) as they are now: event streams filter by them from the next event on,
        live views of cameras it may no longer see end."""
        self.changes += 1
        await self._apply(user)

    async def recheck(self, users: Mapping[str, User | None]) -> None:
        """What each session (`token_digest`) is now, as read from the accounts: None for one that has ended."""
        for session, user in users.items():
            if user is None:
                await self._end((held for held in self._open if held.session == session), SESSION_ENDED)
            else:
                await self._apply(user)

    async def _apply(self, user: User) -> None:
        mine = [held for held in self._open if held.user.id == user.id]
        for held in mine:  # the account's grants and role; how each connection signed in stays its own
            held.user = replace(user, machine_key=held.user.machine_key)
        await self._end((held for held in mine if held.camera is not None and not user.may_see(held.camera)),
                        NOT_GRANTED)

    async def _end(self, ending: Iterable[Connection], closure: Closure) -> None:
        stops = []
        for held in list(ending):
            self._open.discard(held)
            stop = held.end(closure)
            if stop is not None:
                stops.append(stop())
        for failure in await asyncio.gather(*stops, return_exceptions=True):
            if isinstance(failure, Exception):
                log.warning("ending a connection failed: %r", failure)
