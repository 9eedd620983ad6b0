"""`nvr` command line: run the station, migrate its database, check a config, cut a clip, find cameras, verify
an export, write reports, install the service."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, TypeGuard

from nvr.commands.arguments import (
    add_camera_commands,
    add_discover_command,
    add_report_commands,
    add_service_command,
    add_user_commands,
)
from nvr.config import Config, ConfigError, load_config

if TYPE_CHECKING:
    from sqlalchemy.exc import SQLAlchemyError

DEFAULT_CONFIG = Path(os.environ.get("NVR_CONFIG", "config.yaml"))


def _load(path: Path, *, check_sources: bool = False) -> Config:
    try:
        return load_config(path, check_sources=check_sources)
    except ConfigError as exc:
        print(exc, file=sys.stderr)
        raise SystemExit(2) from None


def cmd_check_config(args: argparse.Namespace) -> int:
    config = _load(args.config, check_sources=True)
    enabled = sum(c.enabled for c in config.cameras)
    cameras = f"{len(config.cameras)} camera{'' if len(config.cameras) == 1 else 's'}"
    print(f"{args.config}: OK ({cameras}, {enabled} enabled; data in {config.data_dir})")
    return 0


def cmd_run(args: argparse.Namespace) -> int:
    from storage.data_lock import DataFolderError, DataFolderLock

    config = _load(args.config)
    try:
        with DataFolderLock(config.data_dir):  # first: a second station on this folder must change nothing
            from nvr.commands.run import station_main
            from nvr.runtime.supervisor import ServeError, serve

            try:
                serve(config, station_main, log_level=args.log_level)
            except ServeError as exc:
                print(f"nvr run: {exc}", file=sys.stderr)
                return 2
    except DataFolderError as exc:
        print(exc, file=sys.stderr)
        return 2
    return 0


def cmd_migrate(args: argparse.Namespace) -> int:
    from nvr.station_identity import station_id
    from storage.index import make_engine
    from storage.schema import upgrade

    config = _load(args.config)
    station = station_id(config)
    engine = make_engine(config.database_url)
    try:
        revision = upgrade(engine, station)
    finally:
        engine.dispose()
    print(f"{engine.url.render_as_string(hide_password=True)}: schema at revision {revision} (station {station})")
    return 0


def cmd_clip(args: argparse.Namespace) -> int:
    from nvr.commands.clip import cut_clip

    return cut_clip(_load(args.config), args.camera, args.start, args.end, args.output)


def cmd_analyze(args: argparse.Namespace) -> int:
    from nvr.commands.analyze import run_analyze

    # a household's USB stick needs no station: without a config file, the default detection settings
    usable = args.config.exists() or args.config != DEFAULT_CONFIG or args.camera
    config = _load(args.config) if usable else Config()
    return run_analyze(config, args.files, args.camera)


def cmd_verify(args: argparse.Namespace) -> int:
    from nvr.commands.verify import run_verify

    return run_verify(args.export, args.key)  # needs no station: an investigator's PC has only the ZIP


def cmd_user(args: argparse.Namespace) -> int:
    from nvr.commands.user import run_user_command

    return run_user_command(_load(args.config), args)


def cmd_camera(args: argparse.Namespace) -> int:
    from nvr.commands.camera import run_camera_command

    return run_camera_command(_load(args.config), args)


def cmd_install_service(args: argparse.Namespace) -> int:
    from nvr.commands.service import install_service

    return install_service(_load(args.config), args.config, args)


def cmd_discover(args: argparse.Namespace) -> int:
    from nvr.commands.discover import run_discover

    return run_discover(args, lambda: _load(args.config))  # only adding needs the configuration


def cmd_report(args: argparse.Namespace) -> int:
    from nvr.commands.report import run_report_command

    return run_report_command(_load(args.config), args)


def cmd_district(args: argparse.Namespace) -> int:
    from nvr.district.config import load_district_config
    from nvr.district.serve import serve_district

    try:
        config = load_district_config(args.config)
    except ConfigError as exc:
        print(exc, file=sys.stderr)
        return 2
    serve_district(config, args.log_level)
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="nvr", description="Station NVR: record, index and serve cameras.")
    parser.add_argument("--config", type=Path, default=DEFAULT_CONFIG,
                        help="configuration file (default: $NVR_CONFIG or ./config.yaml)")
    commands = parser.add_subparsers(dest="command", required=True)
    run = commands.add_parser("run", help="record every camera and serve the API")
    run.add_argument("--log-level", default="INFO", choices=["DEBUG", "INFO", "WARNING", "ERROR"])
    run.set_defaults(func=cmd_run)
    check = commands.add_parser("check-config", help="validate the configuration and exit")
    check.set_defaults(func=cmd_check_config)
    migrate = commands.add_parser("migrate", help="bring the database schema to this version (also done by run)")
    migrate.set_defaults(func=cmd_migrate)
    clip = commands.add_parser("clip", help="write one camera's footage between two instants to an MP4 file")
    clip.add_argument("camera")
    clip.add_argument("start", help="ISO 8601 (local time unless an offset is given) or Unix seconds")
    clip.add_argument("end")
    clip.add_argument("-o", "--output", type=Path, required=True)
    clip.set_defaults(func=cmd_clip)
    analyze = commands.add_parser("analyze", help="run detection over video files, one JSON line per event")
    analyze.add_argument("files", nargs="+", type=Path, metavar="FILE")
    analyze.add_argument("--camera", help="use this camera's zones, masks and sensitivity from the configuration")
    analyze.set_defaults(func=cmd_analyze)
    verify = commands.add_parser("verify", help="check a case export's signature and every file's SHA-256 "
                                                "(a district's: then each post's export inside)")
    verify.add_argument("export", type=Path, metavar="EXPORT.zip")
    verify.add_argument("--key", metavar="PUBLIC_KEY",
                        help="the station's (or, for a district's export, the district's) public key: a PEM "
                             "file, or its base64 (GET /api/station); "
                             "default: the key inside the export, which proves integrity but not origin")
    verify.set_defaults(func=cmd_verify)
    district = commands.add_parser("district", help="serve the district's view of many posts (district.yaml)")
    district.add_argument("--log-level", default="INFO", choices=["DEBUG", "INFO", "WARNING", "ERROR"])
    district.set_defaults(func=cmd_district)
    user = add_user_commands(commands)
    user.set_defaults(func=cmd_user)
    camera = add_camera_commands(commands)
    camera.set_defaults(func=cmd_camera)
    service = add_service_command(commands)
    service.set_defaults(func=cmd_install_service)
    discover = add_discover_command(commands)
    discover.set_defaults(func=cmd_discover)
    report = add_report_commands(commands)
    report.set_defaults(func=cmd_report)
    # `--config` is accepted after the command too, and after an action of one (`nvr user list --config x.yaml`)
    for sub in (run, check, migrate, clip, analyze, verify, user, camera, service, discover, report, district):
        for accepting in (sub, *_actions(sub)):
            accepting.add_argument("--config", type=Path, default=argparse.SUPPRESS)
    return parser


def _actions(command: argparse.ArgumentParser) -> list[argparse.ArgumentParser]:
    """The parsers of a command's actions (`user add`, `user list`, ...), if it has any."""
    return [parser for action in command._actions if isinstance(action, argparse._SubParsersAction)
            for parser in action.choices.values()]


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args))
    except Exception as exc:
        if not _from_the_catalog(exc):
            raise
        from ingest.urls import redact_text
        from storage.catalog_failure import catalog_failure

        # a catalog away or damaged: one line that says so, not a traceback
        print(f"nvr {args.command}: the catalog does not answer: {redact_text(catalog_failure(exc))}", file=sys.stderr)
        return 1


def _from_the_catalog(error: Exception) -> TypeGuard[SQLAlchemyError]:
    """Is `error` SQLAlchemy's? Asked without importing it: a command that never loaded it cannot have raised it."""
    errors = sys.modules.get("sqlalchemy.exc")
    return errors is not None and isinstance(error, errors.SQLAlchemyError)


if __name__ == "__main__":
    raise SystemExit(main())
