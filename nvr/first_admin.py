"""The first administrator: there is no default password. It comes from NVR_ADMIN_PASSWORD, or is
generated once, written to a 0600 file in the data folder and printed on the console (not the log)."""

from __future__ import annotations

import logging
import os
import secrets
import sys
from collections.abc import Mapping
from pathlib import Path

from storage.accounts import AccountError, AccountStore

log = logging.getLogger(__name__)
ADMIN = "admin"
PASSWORD_FILE = "admin-password.txt"


def ensure_first_admin(accounts: AccountStore, data_dir: Path, env: Mapping[str, str]) -> None:
    if accounts.count(role="admin"):
        return
    if accounts.get(ADMIN) is not None:
        raise AccountError(f"there is no administrator and the name {ADMIN!r} is taken by another role")
    password = env.get("NVR_ADMIN_PASSWORD")
    if password:
        accounts.add(ADMIN, password, "admin")
        log.info("created the administrator %r with the password from NVR_ADMIN_PASSWORD", ADMIN)
        return
    password = secrets.token_urlsafe(15)
    path = data_dir / PASSWORD_FILE
    data_dir.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(password + "\n")
    os.chmod(path, 0o600)
    accounts.add(ADMIN, password, "admin")
    print(f"First start: administrator {ADMIN!r} created with password {password}\n"
          f"(also saved, readable only by this user, in {path}; change it with `nvr user passwd admin`)",
          file=sys.stdout, flush=True)
