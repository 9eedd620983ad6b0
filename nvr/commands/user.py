"""`nvr user add|passwd|grant|revoke|list|key`: accounts and machine keys from the console of the station's box."""

from __future__ import annotations

import argparse
import getpass
import sys

from nvr.config import Config
from nvr.first_admin import set_password
from nvr.station_identity import station_id
from nvr.times import format_instant
from storage.accounts import AccountError, AccountStore
from storage.audit import AuditLog
from storage.camera_store import CameraStore
from storage.index import RecordingIndex
from storage.machine_keys import MachineKeys

CONSOLE = "console"  # how changes made here appear in the audit log


def _read_password() -> str:
    if sys.stdin.isatty():
        first = getpass.getpass("password: ")
        if getpass.getpass("again: ") != first:
            raise AccountError("the two passwords differ")
        return first
    given = sys.stdin.readline().rstrip("\n")
    if not given:
        raise AccountError("no password given: type it at the prompt, or send it on standard input")
    return given


def run_user_command(config: Config, args: argparse.Namespace) -> int:
    index = RecordingIndex(config.database_url, station_id(config))
    accounts, audit = AccountStore(index), AuditLog(index)
    try:
        if args.action == "list":
            for user in accounts.all_users():
                cameras = "all cameras" if user.role != "viewer" else (", ".join(sorted(user.cameras)) or "none")
                print(f"{user.username}\t{user.role}\t{cameras}")
            return 0
        if args.action == "key":
            return _key_command(config, index, accounts, audit, args)
        if args.action in ("grant", "revoke"):
            known = {camera.name for camera in CameraStore(index).all()} | {camera.name for camera in config.cameras}
            unknown = [c for c in args.cameras if c not in known]
            if unknown:
                raise AccountError(f"no camera named {', '.join(unknown)}")
            change = accounts.grant if args.action == "grant" else accounts.revoke
            change(args.username, args.cameras)
            for camera in args.cameras:
                audit.record(args.action, username=CONSOLE, camera=camera, detail=f"user {args.username}")
        elif args.action == "add":
            accounts.add(args.username, _read_password(), args.role)
            audit.record("user_add", username=CONSOLE, detail=f"user {args.username} role {args.role}")
        else:
            set_password(accounts, config.data_dir, args.username, _read_password())
            audit.record("user_passwd", username=CONSOLE, detail=f"user {args.username}")
        print(f"{args.action}: done")
        return 0
    except AccountError as exc:
        print(exc, file=sys.stderr)
        return 2
    finally:
        index.close()


def _key_command(config: Config, index: RecordingIndex, accounts: AccountStore, audit: AuditLog,
                 args: argparse.Namespace) -> int:
    """A new key goes to stdout alone (`KEY=$(nvr user key district)`), what it is to stderr."""
    keys = MachineKeys(index, accounts)
    if args.list:
        for listed in keys.listed(args.username):
            revoked = format_instant(listed.revoked_ms, config.zone) if listed.revoked_ms is not None else "valid"
            print(f"{listed.id}\t{format_instant(listed.created_ms, config.zone)}\t{revoked}\t{listed.label}")
        return 0
    if args.revoke is not None:
        if args.revoke != "all" and not (args.revoke.isascii() and args.revoke.isdigit()):  # not '²' or '٣'
            raise AccountError("--revoke takes a key id (see --list) or 'all'")
        revoked_keys = keys.revoke(args.username, None if args.revoke == "all" else int(args.revoke))
        for gone in revoked_keys:
            audit.record("key_revoke", username=CONSOLE, detail=gone.described)
        count = len(revoked_keys)
        print(f"revoked {count} key{'' if count == 1 else 's'} of {args.username}", file=sys.stderr)
        return 0
    created, secret = keys.create(args.username, args.label)
    audit.record("key_create", username=CONSOLE, detail=created.described)
    print(f"key {created.id} of {args.username} (shown once; revoke: nvr user key {args.username} "
          f"--revoke {created.id})", file=sys.stderr)
    print(secret)
    return 0
