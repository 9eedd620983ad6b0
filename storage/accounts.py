"""Accounts: users with roles, camera grants for viewers, and login tokens (stored hashed); the lookup of
machine keys too (storage/machine_keys.py makes and revokes them).

Users and tokens are not station-scoped yet; grants name cameras, which are, so a viewer sees on
this box only the grants to this station's cameras.
"""

from __future__ import annotations

import hashlib
import re
import secrets
import threading
import time
from dataclasses import dataclass, replace

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import delete, func, literal, select
from sqlalchemy.exc import IntegrityError

from storage.clock import now_ms
from storage.index import RecordingIndex
from storage.models import CameraRow, GrantRow, MachineKeyRow, TokenRow, UserRow
from storage.roles import ROLES

MAX_USERNAME = 64
USERNAME = re.compile(rf"^[a-z0-9][a-z0-9._-]{{0,{MAX_USERNAME - 1}}}\Z")  # \Z: "$" lets a final newline through
MIN_PASSWORD = 10
NEVER_MS = 2**62  # when a machine key expires
TOKEN_CACHE_SECONDS = 2.0  # how stale a token's user may be after a change made by another process (the CLI)


class AccountError(ValueError):
    pass


@dataclass(frozen=True)
class User:
    id: int
    username: str
    role: str
    cameras: frozenset[str]  # granted cameras; only meaningful for viewers
    must_change_password: bool = False  # the generated first password: nothing else until it is changed
    machine_key: bool = False  # signed in with a machine key (a machine such as the district server), not a password

    def may_see(self, camera: str) -> bool:
        return self.role in ("admin", "operator") or camera in self.cameras


def token_digest(token: str) -> str:
    """How a token is stored, and how whoever must remember a token without holding the secret names it."""
    return hashlib.sha256(token.encode()).hexdigest()


class TokenCache:
    """The user of each recently presented token, for a couple of seconds: checking a token was two catalog
    queries, most of an API request's cost. Every change this process makes to accounts empties it at once."""

    def __init__(self, seconds: float = TOKEN_CACHE_SECONDS) -> None:
        self._seconds = seconds
        self._lock = threading.Lock()
        self._users: dict[str, tuple[float, int, User]] = {}  # digest -> (fetched, token expiry ms, user)

    def get(self, digest: str) -> User | None:
        with self._lock:
            entry = self._users.get(digest)
        if entry is None or time.monotonic() - entry[0] > self._seconds or entry[1] <= now_ms():
            return None
        return entry[2]

    def put(self, digest: str, expires_ms: int, user: User) -> None:
        with self._lock:
            if len(self._users) > 1000:  # many tokens in a few seconds: forget the lot rather than grow
                self._users.clear()
            self._users[digest] = (time.monotonic(), expires_ms, user)

    def clear(self) -> None:
        with self._lock:
            self._users.clear()


class AccountStore:
    def __init__(self, index: RecordingIndex) -> None:
        self._index = index
        self._hasher = PasswordHasher()
        self._dummy_hash: str | None = None  # `_unknown_user_hash`
        self._tokens = TokenCache()

    def count(self, role: str | None = None) -> int:
        query = select(func.count(UserRow.id))
        if role is not None:
            query = query.where(UserRow.role == role)
        with self._index.session() as session:
            return int(session.scalar(query) or 0)

    def add(self, username: str, password: str, role: str) -> User:
        if not USERNAME.match(username):
            raise AccountError(f"username: 1-{MAX_USERNAME} lowercase letters, digits, '.', '_' or '-'")
        if role not in ROLES:
            raise AccountError(f"role must be one of {', '.join(ROLES)}")
        self._check_password(password)
        taken = AccountError(f"user {username!r} already exists")
        try:
            with self._index.session() as session, session.begin():
                if session.scalar(select(UserRow.id).where(UserRow.username == username)) is not None:
                    raise taken
                session.add(UserRow(username=username, password_hash=self._hasher.hash(password), role=role,
                                    created_ms=now_ms()))
        except IntegrityError:  # added meanwhile by another process (another box of a shared database)
            raise taken from None
        return self.get_required(username)

    def set_password(self, username: str, password: str) -> User:
        """Change a password; every session of that user ends. A password that must be changed may not be
        set again."""
        self._check_password(password)
        user = self.get_required(username)
        with self._index.session() as session, session.begin():
            row = session.get(UserRow, user.id)
            assert row is not None
            if row.must_change_password and self._matches(row.password_hash, password):
                raise AccountError("the new password must differ from the one to be changed")
            row.password_hash = self._hasher.hash(password)
            row.must_change_password = False
            session.execute(delete(TokenRow).where(TokenRow.user_id == user.id))
        self._tokens.clear()
        return user

    def require_new_password(self, username: str) -> None:
        """Until they set another password, the user may do nothing else (a generated first password)."""
        user = self.get_required(username)
        with self._index.session() as session, session.begin():
            row = session.get(UserRow, user.id)
            assert row is not None
            row.must_change_password = True
        self._tokens.clear()

    def verify(self, username: str, password: str) -> User | None:
        with self._index.session() as session:
            row = session.scalar(select(UserRow).where(UserRow.username == username))
        unknown = self._unknown_user_hash()  # made at the first log-in, whoever it is
        matches = self._matches(row.password_hash if row else unknown, password)
        return self.get(username) if row and matches else None

    def _unknown_user_hash(self) -> str:
        """What an unknown user's password is checked against, so that its log-in costs as much as a known one's.
        Hashed at the first log-in of anyone, known or not (both pay it then), not when the store is made: a
        command such as `nvr user`, and every station process, started 0.24 CPU-s sooner."""
        if self._dummy_hash is None:
            self._dummy_hash = self._hasher.hash(secrets.token_hex(16))
        return self._dummy_hash

    def _matches(self, password_hash: str, password: str) -> bool:
        try:
            return self._hasher.verify(password_hash, password)
        except (VerificationError, InvalidHashError):
            return False

    def get(self, username: str) -> User | None:
        with self._index.session() as session:
            row = session.scalar(select(UserRow).where(UserRow.username == username))
            if row is None:
                return None
            granted = (select(CameraRow.name).join(GrantRow, GrantRow.camera_id == CameraRow.id)
                       .where(GrantRow.user_id == row.id, CameraRow.station == self._index.station))
            cameras = session.scalars(granted).all()
            return User(row.id, row.username, row.role, frozenset(cameras), row.must_change_password)

    def get_required(self, username: str) -> User:
        user = self.get(username)
        if user is None:
            raise AccountError(f"no user named {username!r}")
        return user

    def all_users(self) -> list[User]:
        with self._index.session() as session:
            names = session.scalars(select(UserRow.username).order_by(UserRow.username)).all()
        return [self.get_required(name) for name in names]

    def grant(self, username: str, cameras: list[str]) -> None:
        """Let a viewer see `cameras`; administrators and operators see every camera, and a grant to them is
        refused rather than kept without effect (an administrator would believe it limits them)."""
        user = self.get_required(username)
        if cameras and user.role != "viewer":
            raise AccountError(f"{username} is an {user.role} and sees every camera: grants are for viewers")
        with self._index.session() as session, session.begin():
            for camera in set(cameras) - user.cameras:
                session.add(GrantRow(user_id=user.id, camera_id=self._index.camera_id(camera)))
        self._tokens.clear()

    def revoke(self, username: str, cameras: list[str]) -> None:
        user = self.get_required(username)
        ids = [self._index.camera_id(c) for c in cameras]
        with self._index.session() as session, session.begin():
            session.execute(delete(GrantRow).where(GrantRow.user_id == user.id, GrantRow.camera_id.in_(ids)))
        self._tokens.clear()

    def create_token(self, user: User, ttl_ms: int) -> str:
        token = secrets.token_urlsafe(32)
        with self._index.session() as session, session.begin():
            session.execute(delete(TokenRow).where(TokenRow.expires_ms < now_ms()))
            session.add(TokenRow(token_hash=token_digest(token), user_id=user.id, expires_ms=now_ms() + ttl_ms))
        return token

    def user_for_token(self, token: str) -> User | None:
        """The user of a valid, unexpired token; None for anything else."""
        digest = token_digest(token)
        if (cached := self._tokens.get(digest)) is not None:
            return cached
        return self.user_for_digest(digest)

    def user_for_digest(self, digest: str) -> User | None:
        """As `user_for_token`, for the token (or machine key) whose `token_digest` this is, read from the
        catalog (for the session watch, which looks for changes made elsewhere); the answer is remembered."""
        with self._index.session() as session:
            token = session.execute(select(TokenRow.user_id, TokenRow.expires_ms)
                                    .where(TokenRow.token_hash == digest, TokenRow.expires_ms > now_ms())).first()
            machine_key = token is None
            if machine_key:
                token = session.execute(select(MachineKeyRow.user_id, literal(NEVER_MS))
                                        .where(MachineKeyRow.key_hash == digest,
                                               MachineKeyRow.revoked_ms.is_(None))).first()
            if token is None:
                return None
            user_id, expires_ms = token
            username = session.scalar(select(UserRow.username).where(UserRow.id == user_id))
        user = self.get(username) if username else None
        if user is not None and machine_key:
            user = replace(user, machine_key=True)
        if user is not None:
            self._tokens.put(digest, expires_ms, user)
        return user

    def forget_cached(self) -> None:
        """Read every token's user from the catalog again (a key was revoked)."""
        self._tokens.clear()

    def revoke_token(self, token: str) -> None:
        with self._index.session() as session, session.begin():
            session.execute(delete(TokenRow).where(TokenRow.token_hash == token_digest(token)))
        self._tokens.clear()

    @staticmethod
    def _check_password(password: str) -> None:
        if len(password) < MIN_PASSWORD:
            raise AccountError(f"password must be at least {MIN_PASSWORD} characters")
