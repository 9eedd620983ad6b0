"""`nvr discover`: the ONVIF cameras on the local network with their maker, model and stream URLs (passwords
hidden); `nvr discover --add NAME --device XADDR --user U` adds one with its credentials, as `nvr camera add`
does.

The ONVIF library is async: here it runs in an event loop of its own, in a worker thread.
"""

from __future__ import annotations

import argparse
import asyncio
import getpass
import json
import sys
from collections.abc import Callable, Coroutine
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any, TypeVar

from ingest.urls import redact_url
from nvr.config import Config

if TYPE_CHECKING:
    from nvr.onvif.model import FoundCamera

T = TypeVar("T")


def in_own_loop(work: Coroutine[Any, Any, T]) -> T:
    with ThreadPoolExecutor(1, thread_name_prefix="onvif") as worker:
        return worker.submit(asyncio.run, work).result()


def _password(args: argparse.Namespace) -> str:
    if args.password is not None or not args.user:
        return str(args.password or "")
    return getpass.getpass(f"password of {args.user}: ") if sys.stdin.isatty() else sys.stdin.readline().rstrip("\n")


def run_discover(args: argparse.Namespace, load_config: Callable[[], Config]) -> int:
    """List (no configuration needed), or add with `--add` (to the catalog of the configured station)."""
    from nvr.logs import setup_logging

    setup_logging("WARNING")  # before the ONVIF library, which would set up logging of its own
    from nvr.onvif.discovery import DiscoveryError

    if args.timeout <= 0:
        print("--timeout must be more than 0 seconds", file=sys.stderr)
        return 2
    if args.add:
        return _add(args, load_config)
    try:
        cameras = in_own_loop(_cameras(args, _password(args)))
    except DiscoveryError as exc:
        print(exc, file=sys.stderr)
        return 2
    for camera in cameras:
        shown = camera.shown()
        print(json.dumps(shown, ensure_ascii=False) if args.json else _line(shown))
    if not cameras or (args.device and cameras[0].error):  # the one camera asked for did not answer
        print("no ONVIF camera answered", file=sys.stderr)
        return 1
    if not args.json:
        print("add one: nvr discover --add NAME --device XADDR --user USER [--title TEXT]", file=sys.stderr)
    return 0


async def _cameras(args: argparse.Namespace, password: str) -> list[FoundCamera]:
    from nvr.onvif.cameras import find_cameras, read_camera

    if args.device:
        return [await read_camera(args.device, args.user, password, args.timeout)]
    return await find_cameras(args.address, args.user, password, args.timeout)


def _line(shown: dict[str, Any]) -> str:
    """device, maker and model, name, then the main and sub streams or the error; tab-separated."""
    what = " ".join(filter(None, (shown["maker"], shown["model"]))) or shown["hardware"]
    fields = [shown["device"], what, shown["name"]]
    if shown["error"]:
        fields.append(f"error: {shown['error']}")
    else:
        fields.append(f"main {shown['main_url']} ({shown['resolution']} {shown['encoding']})")
        fields.append(f"sub {shown['sub_url']} ({shown['sub_resolution']})" if shown["sub_url"] else "no sub stream")
    return "\t".join(fields)


def _add(args: argparse.Namespace, load_config: Callable[[], Config]) -> int:
    from nvr.commands.camera import add_camera
    from nvr.onvif.device import read_device
    from nvr.onvif.model import DeviceError, stream_settings

    if not (args.device and args.user):
        print("--add needs the camera's --device XADDR (as `nvr discover` lists it) and --user", file=sys.stderr)
        return 2
    config = load_config()
    password = _password(args)
    try:
        info = in_own_loop(read_device(args.device, args.user, password, args.timeout))
    except DeviceError as exc:
        print(f"{redact_url(args.device)}: {exc}", file=sys.stderr)
        return 2
    given = {key: value for key in ("title", "location") if (value := getattr(args, key)) is not None}
    settings = {"name": args.add, **given, **stream_settings(info, args.user, password)}
    return add_camera(config, settings, origin=f" (ONVIF {args.device})")
