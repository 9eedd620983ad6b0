"""`nvr camera list|add|set|rm`: the station's cameras from the console of its box.

Changes go to the catalog; a running station picks them up within a couple of seconds and touches no
other camera. A camera changed here is managed by the catalog from then on.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from pydantic import ValidationError

from ingest.urls import redact_url
from nvr.cameras import camera_from, camera_settings
from nvr.commands.arguments import SETTINGS
from nvr.commands.user import CONSOLE
from nvr.config import CameraConfig, Config, validation_problems
from nvr.station_identity import station_id
from storage.audit import AuditLog
from storage.camera_store import CameraStore, NameNotFreeYet
from storage.clock import now_ms
from storage.index import RecordingIndex


def _given(args: argparse.Namespace) -> dict[str, Any]:
    return {key: value for key in (*SETTINGS, "enabled") if (value := getattr(args, key)) is not None}


@contextmanager
def _catalog(config: Config) -> Iterator[tuple[CameraStore, AuditLog]]:
    index = RecordingIndex(config.database_url, station_id(config))
    try:
        yield CameraStore(index), AuditLog(index)
    finally:
        index.close()


def add_camera(config: Config, settings: dict[str, Any], origin: str = "") -> int:
    """Add a camera to the catalog as `nvr camera add` does (status 2, and why, if it is refused); `origin`
    is added to the audit entry."""
    with _catalog(config) as (store, audit):
        return _save(store, audit, "add", settings, origin)


def _save(store: CameraStore, audit: AuditLog, action: str, settings: dict[str, Any], origin: str = "") -> int:
    name = settings["name"]
    current = store.get(name)
    alive = current is not None and not current.removed
    if action == "add" and alive:
        print(f"a camera named {name!r} exists; change it with `nvr camera set`", file=sys.stderr)
        return 2
    if action == "set" and not alive:
        print(f"no camera named {name!r}", file=sys.stderr)
        return 2
    base = current.settings if action == "set" and current else {}
    try:
        camera = CameraConfig.model_validate({**base, **settings})
    except ValidationError as exc:
        print("\n".join(validation_problems(exc)), file=sys.stderr)
        return 2
    try:
        store.put(camera.name, camera_settings(camera), "catalog", now_ms())
    except NameNotFreeYet as exc:
        print(exc, file=sys.stderr)
        return 2
    audit.record(f"camera_{action}", username=CONSOLE, camera=camera.name,
                 detail=f"record_url {redact_url(camera.record_url)}{origin}")
    print(f"{action} {name}: done")
    return 0


def run_camera_command(config: Config, args: argparse.Namespace) -> int:
    with _catalog(config) as (store, audit):
        if args.action == "list":
            for stored in store.all():
                camera = camera_from(stored)
                url = redact_url(camera.record_url) if camera else "(invalid settings)"
                state = "enabled" if camera and camera.enabled else "disabled"
                recorder = "no recorder yet" if stored.recorder is None else f"recorder {stored.recorder}"
                print(f"{stored.name}\t{state}\t{recorder}\t{stored.managed_by}\t{url}\t"
                      f"{camera.title if camera else ''}")
            return 0
        if args.action == "rm":
            if not store.remove(args.name, now_ms()):
                print(f"no camera named {args.name!r}", file=sys.stderr)
                return 2
            audit.record("camera_rm", username=CONSOLE, camera=args.name)
            print(f"rm {args.name}: done")
            return 0
        return _save(store, audit, args.action, {**_given(args), "name": args.name})
