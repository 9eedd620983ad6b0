"""Machine keys: a long-lived API key per user and machine (the district server, a script), sent as
`Authorization: Bearer <key>`. A key acts as its user (role and grants as they are at each request);
it is shown once, stored as its SHA-256, and lives until it is revoked: a password change does not end it.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from sqlalchemy import select, update

from storage.accounts import AccountError, AccountStore, token_digest
from storage.clock import now_ms
from storage.index import RecordingIndex
from storage.models import MachineKeyRow, UserRow

KEY_PREFIX = "nvrk_"  # tells a key from a session token at a glance (and to secret scanners)
MAX_LABEL = 64


@dataclass(frozen=True)
class MachineKey:
    id: int
    username: str
    label: str
    created_ms: int
    revoked_ms: int | None
    digest: str  # token_digest of the key: how open connections name it; never shown

    @property
    def described(self) -> str:
        """Which key, for the audit log (never the key)."""
        return f"user {self.username} key {self.id}" + (f" ({self.label})" if self.label else "")


def is_machine_key(token: str) -> bool:
    return token.startswith(KEY_PREFIX)


class MachineKeys:
    def __init__(self, index: RecordingIndex, accounts: AccountStore) -> None:
        self._index = index
        self._accounts = accounts

    def create(self, username: str, label: str = "") -> tuple[MachineKey, str]:
        """A new key of `username` and the key itself, which is not kept anywhere: show it once."""
        if len(label) > MAX_LABEL:
            raise AccountError(f"label: at most {MAX_LABEL} characters")
        if not label.isprintable():  # a tab or a line break would break `nvr user key --list`'s columns
            raise AccountError("label: one line of printable text")
        label = label.strip()
        user = self._accounts.get_required(username)
        key = KEY_PREFIX + secrets.token_urlsafe(32)
        with self._index.session() as session, session.begin():
            row = MachineKeyRow(key_hash=token_digest(key), user_id=user.id, label=label, created_ms=now_ms())
            session.add(row)
            session.flush()
            created = MachineKey(row.id, username, label, row.created_ms, None, row.key_hash)
        return created, key

    def listed(self, username: str | None = None) -> list[MachineKey]:
        """Keys (revoked ones too) of `username`, or of everybody, oldest first."""
        query = select(MachineKeyRow, UserRow.username).join(UserRow, UserRow.id == MachineKeyRow.user_id)
        if username is not None:
            query = query.where(UserRow.id == self._accounts.get_required(username).id)
        with self._index.session() as session:
            return [MachineKey(row.id, name, row.label, row.created_ms, row.revoked_ms, row.key_hash)
                    for row, name in session.execute(query.order_by(MachineKeyRow.id)).all()]

    def revoke(self, username: str, key_id: int | None = None) -> list[MachineKey]:
        """Revoke key `key_id` of `username` (None: all of its keys still valid); the keys revoked now."""
        live = [k for k in self.listed(username) if k.revoked_ms is None and key_id in (None, k.id)]
        if key_id is not None and not live:
            raise AccountError(f"user {username!r} has no valid key {key_id}")
        at = now_ms()
        with self._index.session() as session, session.begin():
            session.execute(update(MachineKeyRow).where(MachineKeyRow.id.in_([k.id for k in live]),
                                                        MachineKeyRow.revoked_ms.is_(None)).values(revoked_ms=at))
        self._accounts.forget_cached()
        return [MachineKey(k.id, k.username, k.label, k.created_ms, at, k.digest) for k in live]
