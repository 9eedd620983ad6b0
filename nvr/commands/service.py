"""`nvr install-service`: the station as a systemd service that starts at boot, restarts when it fails, and
runs as its own unprivileged user in a read-only system (it may write only its data folder)."""

from __future__ import annotations

import argparse
import os
import pwd
import shutil
import subprocess
import sys
from pathlib import Path

from nvr.config import Config

UNIT_NAME = "station-nvr.service"
UNIT_DIR = Path("/etc/systemd/system")
ENV_FILE = Path("/etc/station-nvr/env")  # camera passwords as NVR_... variables, readable by root only


def writable_folders(config: Config) -> list[Path]:
    """What the service may write: its data folder, and the folder of a SQLite catalog kept elsewhere (which the
    unit's read-only system hid from it: the service could not start)."""
    folders = [config.data_dir.resolve()]
    if config.sqlite_file is not None and not config.sqlite_file.resolve().is_relative_to(folders[0]):
        folders.append(config.sqlite_file.resolve().parent)
    return folders


def hidden_by_private_tmp(paths: list[Path]) -> list[Path]:
    """Those of `paths` under /tmp or /var/tmp, which the service (PrivateTmp=yes) sees as empty folders of its own."""
    return [path for path in paths if any(path.is_relative_to(tmp) for tmp in (Path("/tmp"), Path("/var/tmp")))]


def unit_text(executable: Path, config_path: Path, data_dir: Path, user: str, writable: list[Path]) -> str:
    """The unit file. KillMode=mixed: SIGTERM reaches the supervisor alone, which stops its recorder and
    station processes in order (closing the open segments); whatever is left after TimeoutStopSec is killed."""
    return f"""[Unit]
Description=Station NVR: cameras, recording, detection and the post's screen
After=network-online.target postgresql.service mosquitto.service
Wants=network-online.target

[Service]
Type=simple
User={user}
Group={user}
ExecStart={executable} --config {config_path} run
EnvironmentFile=-{ENV_FILE}
Environment=PYTHONUNBUFFERED=1
WorkingDirectory={data_dir}
Restart=on-failure
RestartSec=5
KillMode=mixed
TimeoutStopSec=60
LimitNOFILE=65536
UMask=0027
ProtectSystem=strict
ReadWritePaths={" ".join(str(path) for path in writable)}
ProtectHome=read-only
PrivateTmp=yes
NoNewPrivileges=yes
CapabilityBoundingSet=
ProtectKernelTunables=yes
ProtectKernelModules=yes
ProtectKernelLogs=yes
ProtectControlGroups=yes
ProtectClock=yes
ProtectHostname=yes
RestrictSUIDSGID=yes
RestrictRealtime=yes
RestrictNamespaces=yes
LockPersonality=yes
SystemCallArchitectures=native
RestrictAddressFamilies=AF_UNIX AF_INET AF_INET6 AF_NETLINK

[Install]
WantedBy=multi-user.target
"""


def install_service(config: Config, config_path: Path, args: argparse.Namespace) -> int:
    executable = Path(sys.argv[0]).resolve() if Path(sys.argv[0]).name == "nvr" else _nvr_executable()
    data_dir = config.data_dir.resolve()
    writable = writable_folders(config)
    text = unit_text(executable, config_path.resolve(), data_dir, args.user, writable)
    hidden = hidden_by_private_tmp([config_path.resolve(), *writable])
    if hidden:
        print(f"nvr install-service: {', '.join(map(str, hidden))} under /tmp would be hidden from the service "
              "(PrivateTmp=yes): keep the configuration and the data in a folder such as /srv/nvr", file=sys.stderr)
    if args.print_only:
        print(text, end="")
        return 0
    if hidden:
        return 2
    if os.geteuid() != 0:
        print("nvr install-service: run it as root (or with --print to see the unit)", file=sys.stderr)
        return 2
    if shutil.which("systemctl") is None:
        print("nvr install-service: this system has no systemd; use --print, or the Docker image", file=sys.stderr)
        return 2
    _ensure_user(args.user, data_dir)
    for folder in writable:
        folder.mkdir(parents=True, exist_ok=True)
        shutil.chown(folder, args.user, args.user)
        for path in folder.rglob("*"):  # a folder used before by another account (a first `make run`)
            shutil.chown(path, args.user, args.user)
    (UNIT_DIR / UNIT_NAME).write_text(text)
    subprocess.run(["systemctl", "daemon-reload"], check=True)
    subprocess.run(["systemctl", "enable", *([] if args.no_start else ["--now"]), UNIT_NAME], check=True)
    print(f"installed {UNIT_DIR / UNIT_NAME}: runs as {args.user}, data in {data_dir}; camera passwords may go "
          f"in {ENV_FILE} (mode 0600). `journalctl -u {UNIT_NAME}` shows its log.")
    return 0


def _nvr_executable() -> Path:
    found = shutil.which("nvr")
    return Path(found).resolve() if found else Path(sys.executable).with_name("nvr")


def _ensure_user(user: str, home: Path) -> None:
    try:
        pwd.getpwnam(user)
    except KeyError:
        subprocess.run(["useradd", "--system", "--home-dir", str(home), "--no-create-home",
                        "--shell", "/usr/sbin/nologin", user], check=True)
