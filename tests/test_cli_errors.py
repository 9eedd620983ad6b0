"""The command line's refusals as a new user meets them: one line naming what is wrong, never a traceback, and no
password repeated (a catalog that does not answer, a first administrator's password too short, a login typed into
an address)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from tests.support.rtsp import free_port

SECRET = "Catalog-pw-4821"


def nvr(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "nvr", *args], capture_output=True, text=True, check=False,
                          timeout=60, stdin=subprocess.DEVNULL, env={**os.environ, **(env or {})})


@pytest.mark.parametrize("damage", ["postgresql away", "not a database"])
def test_a_catalog_that_does_not_answer_is_one_line_for_every_command_that_reads_it(tmp_path: Path,
                                                                                     damage: str) -> None:
    data = tmp_path / "data"
    data.mkdir()
    if damage == "postgresql away":
        database = f"database: {{url: 'postgresql://nvr:{SECRET}@127.0.0.1:{free_port()}/nvr'}}\n"
    else:
        (data / "nvr.db").write_text("these are notes, not a catalog\n")
        database = ""
    config = tmp_path / "config.yaml"
    config.write_text(f"data_dir: {data}\n{database}cameras: [{{name: a, record_url: 'demo://alley'}}]\n")
    for command in (["migrate"], ["user", "list"], ["camera", "list"], ["report", "health"]):
        result = nvr("--config", str(config), *command)
        assert result.returncode == 1, result.stderr
        assert "Traceback" not in result.stderr and SECRET not in result.stderr, result.stderr
        assert result.stderr.startswith(f"nvr {command[0]}: the catalog does not answer: "), result.stderr
        assert len(result.stderr.strip().splitlines()) == 1, result.stderr


def test_a_first_administrator_password_too_short_stops_nvr_run_naming_its_setting(tmp_path: Path) -> None:
    config = tmp_path / "config.yaml"
    config.write_text(f"data_dir: {tmp_path / 'data'}\nserver: {{port: {free_port()}}}\ncameras: []\n")
    result = nvr("--config", str(config), "run", env={"NVR_ADMIN_PASSWORD": "abc123"})
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr, result.stderr
    assert ("the first administrator cannot be created: NVR_ADMIN_PASSWORD: password must be at least 10 "
            "characters") in result.stderr


def test_a_login_typed_into_an_address_is_never_repeated(tmp_path: Path) -> None:
    device = f"http://admin:{SECRET}@127.0.0.1:{free_port()}/onvif/device_service"  # nothing listens there
    listed = nvr("discover", "--device", device, "--user", "admin", "--password", "other", "--timeout", "3")
    assert listed.returncode == 1, "the one camera asked for did not answer"
    assert "http://admin:***@127.0.0.1" in listed.stdout and SECRET not in listed.stdout + listed.stderr
    as_json = nvr("discover", "--device", device, "--user", "admin", "--password", "other", "--timeout", "3", "--json")
    assert as_json.returncode == 1 and SECRET not in as_json.stdout + as_json.stderr
    config = tmp_path / "config.yaml"
    config.write_text(f"data_dir: {tmp_path / 'data'}\ncameras: [{{name: a, record_url: 'file://admin:{SECRET}@x/v.mp4'}}]\n")
    added = nvr("--config", str(config), "discover", "--add", "b", "--device", device, "--user", "admin",
                "--password", "other", "--timeout", "3")
    assert added.returncode == 2 and "admin:***@" in added.stderr and SECRET not in added.stderr, added.stderr
    checked = nvr("--config", str(config), "check-config")
    assert checked.returncode == 2 and "admin:***@x/v.mp4' does not exist" in checked.stderr, checked.stderr
    assert SECRET not in checked.stderr


def test_nvr_run_keeps_what_it_writes_from_the_other_users_of_the_box(tmp_path: Path) -> None:
    """Under a shell's umask 022 the catalog (camera passwords) was readable by every local account (found in
    review): `nvr run` narrows the mask as the service's unit does, and the catalog made before loses its world bit."""
    from nvr.runtime.private_files import keep_private

    catalog = tmp_path / "nvr.db"
    catalog.write_text("")
    catalog.chmod(0o644)
    kept = os.umask(0o022)
    try:
        keep_private(catalog)
        assert os.umask(0o022) == 0o027
    finally:
        os.umask(kept)
    assert catalog.stat().st_mode & 0o777 == 0o640
    keep_private(None)  # a PostgreSQL catalog: nothing of its own on disk
    os.umask(kept)


def test_the_small_refusals_say_what_was_meant(tmp_path: Path) -> None:
    """Found in review: an export given as the key read "'utf-8' codec can't decode byte 0xb1", an empty standard
    input "password must be at least 10 characters", one camera "1 cameras"."""
    binary = tmp_path / "case.zip"
    binary.write_bytes(bytes(range(256)))
    verified = nvr("verify", str(binary), "--key", str(binary))
    assert verified.returncode == 2 and "is not a public key: give the PEM file" in verified.stderr, verified.stderr
    config = tmp_path / "config.yaml"
    config.write_text(f"data_dir: {tmp_path / 'data'}\ncameras: [{{name: a, record_url: 'demo://alley'}}]\n")
    added = nvr("--config", str(config), "user", "add", "truc-ban", "--role", "operator")
    assert added.returncode != 0 and "no password given" in added.stderr, added.stderr
    checked = nvr("--config", str(config), "check-config")
    assert checked.returncode == 0 and "OK (1 camera, 1 enabled" in checked.stdout, checked.stdout
    listed = nvr("user", "list", "--config", str(config))  # --config after the command's action too
    assert listed.returncode == 0, listed.stderr
    missing_file = f"file:{tmp_path}/none.mp4"
    config.write_text(f"data_dir: {tmp_path / 'data'}\ncameras: [{{name: a, record_url: '{missing_file}'}}]\n")
    missing = nvr("--config", str(config), "check-config")
    assert missing.returncode == 2 and "none.mp4' does not exist" in missing.stderr, "file: without // is checked too"


def test_check_config_says_when_the_data_folder_cannot_be_written(tmp_path: Path) -> None:
    """Found in review: check-config said OK for a data_dir under /sys (and `nvr run` then failed)."""
    config = tmp_path / "config.yaml"
    unwritable = "/sys/kernel/nvr-data is not writable by this user (it would be made in /sys/kernel)"
    for data_dir, said in (("/sys/kernel/nvr-data", unwritable),
                           (f"{config}/data", f"cannot be made: {config} is a file, not a folder")):
        config.write_text(f"data_dir: {data_dir}\ncameras: [{{name: a, record_url: 'demo://alley'}}]\n")
        checked = nvr("--config", str(config), "check-config")
        assert checked.returncode == 2 and said in checked.stderr, checked.stderr
    config.write_text(f"data_dir: {tmp_path / 'new' / 'data'}\ncameras: []\n")
    checked = nvr("--config", str(config), "check-config")
    assert checked.returncode == 0, checked.stderr
    assert not (tmp_path / "new").exists() and not list(tmp_path.glob(".nvr-write-probe-*")), "nothing left behind"


def test_the_command_line_and_verify_load_no_catalog_video_or_vision_library() -> None:
    """`nvr --help`, and `nvr verify` of a file that is not there, answer without importing SQLAlchemy, PyAV or OpenCV
    (a second of a mini-PC's CPU before the first line); the commands that need them import them when they run."""
    heavy = ("sqlalchemy", "av", "cv2")
    script = ("import sys\nfrom nvr.commands.cli import main\nfor argv in (['--help'], ['verify', 'absent.zip']):\n"
              "    try:\n        main(argv)\n    except SystemExit:\n        pass\n"
              f"print(sorted(name for name in {heavy!r} if name in sys.modules))")
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=False, timeout=60,
                            stdin=subprocess.DEVNULL)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == "[]", result.stdout


def test_a_demo_config_is_checked_and_its_users_managed_without_the_video_libraries(tmp_path: Path) -> None:
    """A configuration naming demo scenes is read without PyAV, OpenCV or NumPy (the scenes' names are apart from
    their rendering), and `nvr user` on a catalog already at the newest revision does without Alembic."""
    config = tmp_path / "config.yaml"
    config.write_text(yaml.safe_dump({"station": {"id": "post"}, "data_dir": str(tmp_path / "data"),
                                      "cameras": [{"name": "a", "record_url": "demo://alley"}]}))

    def loaded(command: list[str]) -> str:
        """Which of the heavy modules a process running `command` loaded."""
        script = (f"import sys\nfrom nvr.commands.cli import main\ntry:\n    main(['--config', {str(config)!r},"
                  f" *{command!r}])\nexcept SystemExit:\n    pass\n"
                  "print(sorted(name for name in ('av', 'cv2', 'numpy', 'alembic') if name in sys.modules))")
        result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=False,
                                timeout=60, stdin=subprocess.DEVNULL)
        assert result.returncode == 0, result.stderr
        return result.stdout.strip().splitlines()[-1]

    assert loaded(["check-config"]) == "[]"
    assert loaded(["user", "key", "nobody"]) == "['alembic']", "the first command on a new catalog migrates it"
    assert loaded(["user", "key", "nobody"]) == "[]"
