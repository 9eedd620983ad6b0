"""The first administrator: there is no default password. It comes from NVR_ADMIN_PASSWORD, or is
generated once and written to a 0600 file in the data folder. A generated password is shown on the console
only when that is a terminal (redirected, the console is a log file), must be changed at the first login,
and its file goes when it is changed."""

from __future__ import annotations

import logging
import os
import secrets
import sys
from collections.abc import Mapping
from pathlib import Path

from storage.accounts import AccountError, AccountStore, User

log = logging.getLogger(__name__)
ADMIN = "admin"
PASSWORD_FILE = "admin-password.txt"


def ensure_first_admin(accounts: AccountStore, data_dir: Path, env: Mapping[str, str]) -> None:
    path = data_dir / PASSWORD_FILE
    if accounts.count(role="admin"):
        _settle_saved_password(accounts, path)
        return
    if accounts.get(ADMIN) is not None:
        if _made_elsewhere(accounts):
            return
        raise AccountError(f"there is no administrator and the name {ADMIN!r} is taken by another role")
    password = env.get("NVR_ADMIN_PASSWORD")
    if password:
        try:
            added = _add_admin(accounts, password)
        except AccountError as exc:  # the one setting it comes from is named: `nvr run` says it and stops
            raise AccountError(f"NVR_ADMIN_PASSWORD: {exc}") from None
        if added:
            log.info("created the administrator %r with the password from NVR_ADMIN_PASSWORD", ADMIN)
        return
    password = secrets.token_urlsafe(15)
    data_dir.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(password + "\n")
    os.chmod(path, 0o600)
    if not _add_admin(accounts, password):
        path.unlink()
        return
    accounts.require_new_password(ADMIN)
    saved = f"saved, readable only by this user, in {path}"
    told = f"password {password} ({saved})" if sys.stdout.isatty() else f"password {saved}"
    print(f"First start: administrator {ADMIN!r} created with the {told}; it must be changed at the first "
          f"login (or with `nvr user passwd {ADMIN}`)", flush=True)


def _add_admin(accounts: AccountStore, password: str) -> bool:
    """False when another box of a shared database created the administrator at the same moment (two posts
    starting at once on a new catalog): theirs stands, with its password in their data folder."""
    try:
        accounts.add(ADMIN, password, "admin")
    except AccountError:
        if _made_elsewhere(accounts):
            return False
        raise
    return True


def _made_elsewhere(accounts: AccountStore) -> bool:
    """Is there an administrator now, though there was none when this start counted them? Another box of a shared
    database made it meanwhile (posts starting at once on a new catalog): it was counted, then the name was looked up
    or the insert refused."""
    if not accounts.count(role="admin"):
        return False
    log.info("the administrator %r was created by another station of this database", ADMIN)
    return True


def set_password(accounts: AccountStore, data_dir: Path, username: str, password: str) -> User:
    """Change a password (every session of the user ends); the first administrator's saved one goes."""
    changed = accounts.set_password(username, password)
    if username == ADMIN:
        (data_dir / PASSWORD_FILE).unlink(missing_ok=True)
    return changed


def _settle_saved_password(accounts: AccountStore, path: Path) -> None:
    """A saved password at a later start: still the administrator's (a station from before it had to be
    changed), it must now be changed; changed meanwhile (on another box of a shared database), it goes."""
    if not path.exists():
        return
    if accounts.verify(ADMIN, path.read_text().strip()) is None:
        path.unlink()
    else:
        accounts.require_new_password(ADMIN)
