"""The commands' arguments (`nvr user`, `camera`, `install-service`, `discover`, `report`), apart from what the
commands do: building the command line imports only this, so `nvr --help`, `nvr verify` and `nvr check-config` do
not load SQLAlchemy, PyAV or OpenCV first (a second of imports on a station's mini-PC)."""

from __future__ import annotations

import argparse
from pathlib import Path

from storage.roles import ROLES


def add_user_commands(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> argparse.ArgumentParser:
    user = commands.add_parser("user", help="manage accounts (add, passwd, grant, revoke, list, key)")
    actions = user.add_subparsers(dest="action", required=True)
    add = actions.add_parser("add", help="create an account; the password is read from stdin or prompted")
    add.add_argument("username")
    add.add_argument("--role", choices=ROLES, required=True)
    passwd = actions.add_parser("passwd", help="set a new password (ends the user's sessions)")
    passwd.add_argument("username")
    for name, text in (("grant", "let a viewer see cameras"), ("revoke", "take cameras away from a viewer")):
        sub = actions.add_parser(name, help=text)
        sub.add_argument("username")
        sub.add_argument("cameras", nargs="+")
    actions.add_parser("list", help="accounts, roles and granted cameras")
    key = actions.add_parser("key", help="print a new machine key of the user (Authorization: Bearer KEY); "
                                         "--list its keys, --revoke one or all")
    key.add_argument("username")
    key.add_argument("--label", default="", help="what the key is for, e.g. district")
    what = key.add_mutually_exclusive_group()
    what.add_argument("--list", action="store_true", help="the user's keys: id, created, revoked, label")
    what.add_argument("--revoke", metavar="ID|all", help="revoke key ID (see --list), or every key of the user")
    return user


SETTINGS = ("title", "location", "area", "record_url", "detect_url")  # what `nvr camera add|set` take as options


def add_camera_commands(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> argparse.ArgumentParser:
    camera = commands.add_parser("camera", help="manage cameras while the station runs (list, add, set, rm)")
    actions = camera.add_subparsers(dest="action", required=True)
    actions.add_parser("list", help="the cameras, their recorder and where their settings come from")
    add = actions.add_parser("add", help="add a camera (recorded within seconds by a running station)")
    change = actions.add_parser("set", help="change a camera's settings (the others are kept)")
    for sub in (add, change):
        sub.add_argument("name")
        for setting in SETTINGS:
            sub.add_argument(f"--{setting.replace('_', '-')}", dest=setting,
                             required=sub is add and setting == "record_url")
        switch = sub.add_mutually_exclusive_group()
        switch.add_argument("--enable", dest="enabled", action="store_const", const=True)
        switch.add_argument("--disable", dest="enabled", action="store_const", const=False)
    remove = actions.add_parser("rm", help="stop recording a camera (its footage stays until retention)")
    remove.add_argument("name")
    return camera


def add_service_command(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> argparse.ArgumentParser:
    service = commands.add_parser("install-service", help="install and start the station as a systemd service")
    service.add_argument("--user", default="nvr", help="the system user it runs as (made if missing)")
    service.add_argument("--print", action="store_true", dest="print_only",
                         help="print the unit file and change nothing")
    service.add_argument("--no-start", action="store_true", help="install and enable, but do not start it now")
    return service


def add_discover_command(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> argparse.ArgumentParser:
    discover = commands.add_parser("discover", help="find the ONVIF cameras on the local network and their streams "
                                                    "(WS-Discovery); --add adds one")
    discover.add_argument("--user", default="", help="the cameras' ONVIF user name (needed to read their streams)")
    discover.add_argument("--password", help="its password (default: asked on the terminal, or read from stdin)")
    discover.add_argument("--timeout", type=float, default=5.0,
                          help="seconds to wait for the cameras' answers (default 5)")
    discover.add_argument("--address", metavar="HOST[:PORT]",
                          help="ask this address only (unicast), e.g. a camera on another subnet")
    discover.add_argument("--device", metavar="XADDR",
                          help="read the camera at this device service address (as listed), without asking the network")
    discover.add_argument("--json", action="store_true", help="one JSON object per camera")
    discover.add_argument("--add", metavar="NAME", help="add the camera at --device as NAME (needs --user)")
    discover.add_argument("--title", help="with --add: the name shown on the screen")
    discover.add_argument("--location", help="with --add: where it is")
    return discover


def add_report_commands(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> argparse.ArgumentParser:
    report = commands.add_parser("report", help="reports for the post chief")
    kinds = report.add_subparsers(dest="kind", required=True)
    health = kinds.add_parser("health", help="camera health (uptime, outages, tampering) as CSV and printable HTML")
    health.add_argument("--days", type=float, default=7.0, help="the last this many days (default 7)")
    health.add_argument("--out", type=Path, default=Path(), help="folder for the two files (default: here)")
    return report
