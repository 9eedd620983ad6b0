"""`nvr install-service`: the systemd unit it would install (printed, nothing changed)."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

HARDENING = ("NoNewPrivileges=yes", "ProtectSystem=strict", "ProtectHome=read-only", "PrivateTmp=yes",
             "CapabilityBoundingSet=", "Restart=on-failure", "KillMode=mixed")


def test_the_unit_runs_the_station_as_its_own_user_in_a_read_only_system(tmp_path: Path) -> None:
    config = tmp_path / "post" / "config.yaml"
    config.parent.mkdir()
    config.write_text("data_dir: ./footage\ncameras: [{name: hem-4, record_url: 'demo://alley'}]\n")
    printed = subprocess.run([sys.executable, "-m", "nvr", "--config", str(config), "install-service", "--print",
                              "--user", "camera-station"], capture_output=True, text=True, check=True).stdout
    lines = printed.splitlines()
    assert "User=camera-station" in lines and "Group=camera-station" in lines
    assert f"ReadWritePaths={config.parent / 'footage'}" in lines, "only the data folder is writable"
    assert all(rule in lines for rule in HARDENING)
    start = next(line for line in lines if line.startswith("ExecStart="))
    executable, *arguments = start.removeprefix("ExecStart=").split()
    assert Path(executable).is_absolute() and Path(executable).exists()
    assert arguments == ["--config", str(config), "run"]
    assert not (config.parent / "footage").exists(), "--print changes nothing"
    if shutil.which("systemd-analyze") is None:
        pytest.skip("no systemd-analyze to check the unit with")
    unit = tmp_path / "station-nvr.service"
    unit.write_text(printed)
    checked = subprocess.run(["systemd-analyze", "verify", str(unit)], check=False, capture_output=True, text=True)
    assert checked.returncode == 0 and "Unknown" not in checked.stderr, checked.stderr


def test_a_catalog_kept_outside_the_data_folder_is_writable_and_tmp_is_named(tmp_path: Path) -> None:
    """Found in review: a SQLite catalog outside the data folder was read-only to the service (it could not start),
    and a data folder under /tmp was silently one the service does not see (PrivateTmp)."""
    from nvr.commands.service import hidden_by_private_tmp, writable_folders
    from nvr.config import parse_config

    config = parse_config("data_dir: /srv/nvr-data\ndatabase: {url: 'sqlite:////var/lib/nvr-db/nvr.db'}\ncameras: []\n")
    assert writable_folders(config) == [Path("/srv/nvr-data"), Path("/var/lib/nvr-db")]
    inside = parse_config("data_dir: /srv/nvr-data\ncameras: []\n")
    assert writable_folders(inside) == [Path("/srv/nvr-data")], "the default catalog lives in the data folder"
    assert hidden_by_private_tmp([Path("/srv/x"), Path("/tmp/a/b"), Path("/var/tmp/c")]) == [
        Path("/tmp/a/b"), Path("/var/tmp/c")]
    under_tmp = tmp_path / "config.yaml"
    under_tmp.write_text("data_dir: ./footage\ncameras: []\n")
    printed = subprocess.run([sys.executable, "-m", "nvr", "--config", str(under_tmp), "install-service", "--print"],
                             capture_output=True, text=True, check=True)
    named = "would be hidden from the service (PrivateTmp=yes)" in printed.stderr
    assert named == bool(hidden_by_private_tmp([tmp_path])) and "[Service]" in printed.stdout, printed.stderr
