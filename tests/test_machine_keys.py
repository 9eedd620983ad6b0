"""Machine keys: `nvr user key` prints a key that works as `Authorization: Bearer` on every route and as the
event stream's `?token=`, with its user's role and grants; stored as a hash, never logged; it outlives a password
change, and its revocation (API or `nvr user key --revoke`) ends its event streams and live views."""

from __future__ import annotations

import asyncio
import hashlib
import io
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import yaml
from sqlalchemy import select

from api.connections import KEY_REVOKED, SESSION_ENDED
from ingest.urls import redact_text
from nvr.station import Station
from storage.accounts import AccountStore
from storage.audit import AuditLog
from storage.index import RecordingIndex
from storage.models import MachineKeyRow
from tests.conftest import station_config, wait_for
from tests.support.rtsp import RtspServer
from tests.support.web import serving
from tests.test_session_ends import Viewer, closing_of, event_stream, finished_event, login, next_event_id, viewers

HOUSEHOLD, PASSWORD = "nha-so-5", "household-pass"


def nvr_user(config: Path, *args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "nvr", "--config", str(config), "user", *args], input=stdin,
                          capture_output=True, text=True, timeout=60, check=False)


def test_a_key_from_the_command_line_is_stored_hashed_listed_revoked_and_audited(tmp_path: Path) -> None:
    config = tmp_path / "config.yaml"
    config.write_text(yaml.safe_dump({"station": {"id": "post"},
                                      "cameras": [{"name": "nha-5", "record_url": "demo://alley"}]}))
    assert nvr_user(config, "add", "district", "--role", "operator", stdin="district-password\n").returncode == 0
    made = nvr_user(config, "key", "district", "--label", "district server")
    assert made.returncode == 0, made.stderr
    key = made.stdout.strip()
    assert key.startswith("nvrk_") and len(key) > 40 and made.stdout.count("\n") == 1, "the key alone on stdout"
    assert "key 1 of district" in made.stderr
    second = nvr_user(config, "key", "district").stdout.strip()

    database = tmp_path / "data" / "nvr.db"
    # read before this process opens the database: closing any descriptor of the file drops SQLite's locks
    stored = b"".join(p.read_bytes() for p in database.parent.glob("nvr.db*"))
    assert key.encode() not in stored and key[5:25].encode() not in stored, "only the hash is kept"
    index = RecordingIndex(f"sqlite:///{database}", "post")
    accounts = AccountStore(index)
    with index.session() as session:
        hashes = session.scalars(select(MachineKeyRow.key_hash).order_by(MachineKeyRow.id)).all()
    assert hashes == [hashlib.sha256(k.encode()).hexdigest() for k in (key, second)]
    user = accounts.user_for_token(key)
    assert user is not None and (user.username, user.role) == ("district", "operator")

    assert nvr_user(config, "passwd", "district", stdin="another-district-pass\n").returncode == 0
    accounts.forget_cached()
    assert accounts.user_for_token(key) == user, "a new password leaves the keys alone"
    listed = nvr_user(config, "key", "district", "--list").stdout.splitlines()
    assert [line.split("\t")[0::2] for line in listed] == [["1", "valid"], ["2", "valid"]]
    assert listed[0].split("\t")[3] == "district server"

    assert nvr_user(config, "key", "district", "--revoke", "1").returncode == 0
    accounts.forget_cached()
    assert accounts.user_for_token(key) is None and accounts.user_for_token(second) == user
    again = nvr_user(config, "key", "district", "--revoke", "1")
    assert again.returncode == 2 and "no valid key 1" in again.stderr
    superscript = nvr_user(config, "key", "district", "--revoke", "²")  # a digit to str.isdigit, not to int()
    assert superscript.returncode == 2 and "takes a key id" in superscript.stderr, superscript.stderr
    assert nvr_user(config, "key", "district", "--revoke", "all").returncode == 0
    accounts.forget_cached()
    assert accounts.user_for_token(second) is None
    assert [line.split("\t")[2] != "valid" for line in
            nvr_user(config, "key", "district", "--list").stdout.splitlines()] == [True, True]
    assert nvr_user(config, "key", "nobody").returncode == 2
    two_lines = nvr_user(config, "key", "district", "--label", "district\tserver\n2")
    assert two_lines.returncode == 2 and "one line of printable text" in two_lines.stderr, two_lines.stderr
    assert len(nvr_user(config, "key", "district", "--list").stdout.splitlines()) == 2, "no key made"

    entries = AuditLog(index).entries(start_ms=0, end_ms=2**62)
    keyed = [(e.action, e.detail) for e in reversed(entries) if e.action.startswith("key_")]
    assert keyed == [("key_create", "user district key 1 (district server)"), ("key_create", "user district key 2"),
                     ("key_revoke", "user district key 1 (district server)"), ("key_revoke", "user district key 2")]
    index.close()


def test_machine_keys_are_redacted_from_any_text() -> None:
    key = "nvrk_" + "A1b2-C3d4_" * 4 + "xyz"
    assert key not in redact_text(f"GET /api/cameras Authorization: Bearer {key} failed")
    assert redact_text("the nvrk_ prefix alone") == "the nvrk_ prefix alone"


@pytest.fixture(scope="module")
def station(cameras: RtspServer, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Station]:
    off = {"enabled": False}  # the events here are made by hand
    config = station_config(tmp_path_factory.mktemp("machine-keys"),
                            [{"name": "cam0", "record_url": cameras.url("cam0"), "detect": off},
                             {"name": "cam1", "record_url": cameras.url("cam1"), "detect": off}],
                            runtime={"recorder_processes": 1})
    station = Station(config)
    station.start()
    try:
        assert station.wait_ready(30), "the recorder process did not come up"
        station.accounts.add(HOUSEHOLD, PASSWORD, "viewer")
        station.accounts.grant(HOUSEHOLD, ["cam0"])
        wait_for(lambda: station.index.segments("cam0", 0, 2**62), 20, "footage of cam0")
        yield station
    finally:
        station.stop()


def test_a_key_acts_as_its_user_outlives_a_new_password_and_its_revocation_ends_its_connections(
        station: Station, logged: io.StringIO) -> None:
    with serving(station, log_level="info") as base:
        key = asyncio.run(_key_lifetime(station, base))
    written = logged.getvalue()
    assert "/api/events/ws?token=" in written, "the access log was written"
    assert key not in written and key[5:25] not in written, "the key is never logged"
    audit = station.audit.entries(start_ms=0, end_ms=2**62, username="admin")
    assert {"key_create", "key_revoke"} <= {e.action for e in audit}
    assert all(key not in e.detail for e in audit)


async def _key_lifetime(station: Station, base: str) -> str:
    async with httpx.AsyncClient(base_url=base, timeout=10) as http:
        admin = await login(http, "admin", os.environ["NVR_ADMIN_PASSWORD"])
        created = await http.post(f"/api/users/{HOUSEHOLD}/keys", json={"label": "nha-5 box"}, headers=admin)
        assert created.status_code == 201
        key, key_id = created.json()["key"], created.json()["id"]
        machine = {"Authorization": f"Bearer {key}"}
        listed = (await http.get(f"/api/users/{HOUSEHOLD}/keys", headers=admin)).json()
        assert listed == [{"id": key_id, "label": "nha-5 box", "created": created.json()["created"], "revoked": None}]
        assert "key" not in listed[0]

        assert [c["name"] for c in (await http.get("/api/cameras", headers=machine)).json()] == ["cam0"]
        assert (await http.get("/api/cameras/cam1/recordings", headers=machine)).status_code == 404, "its grants"
        assert (await http.get("/api/cameras/cam0/recordings", headers=machine)).status_code == 200
        assert (await http.get("/api/users", headers=machine)).status_code == 403, "its role"
        assert (await http.post(f"/api/users/{HOUSEHOLD}/keys", json={}, headers=machine)).status_code == 403
        session = await login(http, HOUSEHOLD)

        async with event_stream(base, machine) as events:
            view = await Viewer.open(http, machine, "cam0")
            try:
                changed = await http.post(f"/api/users/{HOUSEHOLD}/password", json={"password": "a-new-household-pass"},
                                          headers=admin)
                assert changed.status_code == 200
                assert (await http.get("/api/cameras", headers=session)).status_code == 401, "the session ended"
                assert (await http.get("/api/cameras", headers=machine)).status_code == 200, "the key did not"
                assert viewers(station, "cam0") == 1, "so its live view goes on"
                still = finished_event(station, "cam0")
                station.event_bus.publish(still)
                assert await next_event_id(events) == still.id, "and its event stream"

                revoked = await http.delete(f"/api/users/{HOUSEHOLD}/keys/{key_id}", headers=admin)
                assert revoked.status_code == 200 and revoked.json()["revoked"] is not None
                assert viewers(station, "cam0") == 0, "its live view ended before the answer"
                assert await closing_of(events) == KEY_REVOKED
                await view.ended_by_the_station()
            finally:
                await view.peer.close()
        assert (await http.get("/api/cameras", headers=machine)).status_code == 401
        assert (await http.delete(f"/api/users/{HOUSEHOLD}/keys/{key_id}", headers=admin)).status_code == 404
        return str(key)


def test_a_key_revoked_with_nvr_user_ends_its_event_stream_within_seconds(station: Station, tmp_path: Path) -> None:
    config = tmp_path / "config.yaml"
    config.write_text(yaml.safe_dump({"data_dir": str(station.config.data_dir), "cameras": [
        {"name": name, "record_url": "demo://alley"} for name in ("cam0", "cam1")]}))
    made = nvr_user(config, "key", HOUSEHOLD)
    assert made.returncode == 0, made.stderr
    machine = {"Authorization": f"Bearer {made.stdout.strip()}"}
    with serving(station) as base:
        async def revoked_elsewhere() -> None:
            async with event_stream(base, machine) as events:
                await asyncio.to_thread(wait_for, lambda: station.event_bus.count >= 1, 10, "the stream subscribed")
                assert (await asyncio.to_thread(nvr_user, config, "key", HOUSEHOLD, "--revoke", "all")).returncode == 0
                assert await closing_of(events) == SESSION_ENDED
        asyncio.run(revoked_elsewhere())
