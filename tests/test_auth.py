"""Accounts and access: every route hides cameras the caller may not see; login edge cases and the login
throttle's memory; the first administrator's generated password; audit."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
import tracemalloc
from pathlib import Path
from typing import Literal

import argon2
import httpx
import pytest
import yaml
from fastapi.testclient import TestClient
from sqlalchemy import event, select
from websockets.exceptions import InvalidStatus
from websockets.sync.client import connect

from api.app import create_app
from nvr.first_admin import PASSWORD_FILE, ensure_first_admin
from nvr.login_limiter import CAPACITY, FAILURES_KEPT, LoginLimiter
from storage import accounts
from storage.accounts import TOKEN_CACHE_SECONDS, AccountError, AccountStore
from storage.index import RecordingIndex
from storage.models import UserRow
from tests.conftest import ManualClock, station_config, wait_for
from tests.support.rtsp import RtspServer
from tests.support.web import serving

HOUSEHOLD, HOUSEHOLD_PASSWORD = "nha-so-5", "household-pass"


@pytest.fixture
def station_and_operator(cameras: RtspServer, tmp_path: Path, make_station):
    config = station_config(tmp_path, [{"name": "nha-5", "record_url": cameras.url("cam0")},
                                       {"name": "nga-tu", "record_url": cameras.url("cam1")}])
    station, operator = make_station(config)
    for name in ("nha-5", "nga-tu"):
        wait_for(lambda n=name: station.index.segments(n, 0, 2**62), 20, f"footage of {name}")
    return station, operator


def login(client: TestClient, username: str, password: str):
    return client.post("/api/auth/login", json={"username": username, "password": password})


def test_household_sees_exactly_its_granted_camera_everywhere(station_and_operator) -> None:
    station, operator = station_and_operator
    station.accounts.add(HOUSEHOLD, HOUSEHOLD_PASSWORD, "viewer")
    station.accounts.grant(HOUSEHOLD, ["nha-5"])
    household = TestClient(create_app(station))
    household.headers["Authorization"] = f"Bearer {login(household, HOUSEHOLD, HOUSEHOLD_PASSWORD).json()['token']}"

    assert [c["name"] for c in household.get("/api/cameras").json()] == ["nha-5"]
    assert [c["name"] for c in operator.get("/api/cameras").json()] == ["nha-5", "nga-tu"]
    segment = station.index.segments("nha-5", 0, 2**62)[0]
    window = f"start={segment.start_ms / 1000}&end={segment.end_ms / 1000}"
    assert household.get(f"/api/cameras/nha-5/clip.mp4?{window}").status_code == 200
    other = station.index.segments("nga-tu", 0, 2**62)[0]
    other_window = f"start={other.start_ms / 1000}&end={other.end_ms / 1000}"
    for route in ("", "/recordings", f"/clip.mp4?{other_window}"):
        refused = household.get(f"/api/cameras/nga-tu{route}")
        missing = household.get(f"/api/cameras/ghost{route}")
        assert refused.status_code == missing.status_code == 404, route
        assert refused.json()["detail"].replace("nga-tu", "X") == missing.json()["detail"].replace("ghost", "X")
        assert operator.get(f"/api/cameras/nga-tu{route}").status_code == 200, route
    assert household.get("/api/audit").status_code == 403


def test_login_failures_rate_limit_tokens_and_cookies(station_and_operator) -> None:
    station, _operator = station_and_operator
    station.accounts.add(HOUSEHOLD, HOUSEHOLD_PASSWORD, "viewer")
    client = TestClient(create_app(station))
    assert client.get("/api/cameras").status_code == 401  # no token, no cookie
    assert login(client, HOUSEHOLD, "wrong-password").status_code == 401
    assert login(client, "nobody", "wrong-password").status_code == 401

    good = login(client, HOUSEHOLD, HOUSEHOLD_PASSWORD)
    assert good.status_code == 200
    cookie = good.headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=strict" in cookie
    assert client.get("/api/auth/me").json()["username"] == HOUSEHOLD  # the cookie alone works
    for page, status in (("same-origin", 200), ("none", 200), ("same-site", 403), ("cross-site", 403)):
        # a page on another port of this host is the same site: its GETs carry the SameSite=Strict cookie
        assert client.get("/api/auth/me", headers={"Sec-Fetch-Site": page}).status_code == status, page
    token = good.json()["token"]
    bare = TestClient(create_app(station))
    assert bare.get("/api/cameras", headers={"Authorization": f"Bearer {token}"}).status_code == 200
    assert bare.get("/api/cameras", headers={"Authorization": f"Bearer {token}", "Sec-Fetch-Site": "cross-site"}
                    ).status_code == 200  # a token is no ambient credential
    assert bare.get("/api/cameras", headers={"Authorization": f"Bearer {token[:-2]}xx"}).status_code == 401
    expired = station.accounts.create_token(station.accounts.get_required(HOUSEHOLD), ttl_ms=-1)
    assert bare.get("/api/cameras", headers={"Authorization": f"Bearer {expired}"}).status_code == 401
    assert client.post("/api/auth/logout", headers={"Origin": "http://testserver"}).status_code == 200  # as the page
    assert bare.get("/api/cameras", headers={"Authorization": f"Bearer {token}"}).status_code == 401

    for _ in range(5):
        assert login(client, HOUSEHOLD, "wrong-password").status_code == 401
    blocked = login(client, HOUSEHOLD, HOUSEHOLD_PASSWORD)  # even the right password, for now
    assert blocked.status_code == 429 and int(blocked.headers["retry-after"]) > 0


def test_audit_records_each_audited_action_for_admins_only(station_and_operator) -> None:
    station, operator = station_and_operator
    admin = TestClient(create_app(station))
    admin.headers["Authorization"] = f"Bearer {login(admin, 'admin', os.environ['NVR_ADMIN_PASSWORD']).json()['token']}"
    login(TestClient(create_app(station)), "duty", "not-the-password")
    segment = station.index.segments("nha-5", 0, 2**62)[0]
    assert operator.get(f"/api/cameras/nha-5/clip.mp4?start={segment.start_ms / 1000}&end={segment.end_ms / 1000}"
                        ).status_code == 200
    assert operator.get("/api/audit").status_code == 403
    entries = admin.get("/api/audit").json()
    actions = {(e["action"], e["username"], e["camera"]) for e in entries}
    assert {("login", "duty", None), ("login", "admin", None), ("login_failed", "duty", None),
            ("clip", "duty", "nha-5")} <= actions
    assert all(e["remote"] for e in entries)
    assert [e["action"] for e in admin.get("/api/audit?action=clip").json()] == ["clip"]


def test_first_admin_is_generated_once_into_a_private_file_and_shown_only_on_a_terminal(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    index = RecordingIndex(f"sqlite:///{tmp_path / 'index.db'}", "post")
    accounts = AccountStore(index)
    ensure_first_admin(accounts, tmp_path, env={})  # the console is captured: a file, as under a service manager
    saved = tmp_path / PASSWORD_FILE
    password = saved.read_text().strip()
    assert stat.S_IMODE(saved.stat().st_mode) == 0o600
    told = capsys.readouterr().out
    assert password not in told and str(saved) in told
    assert accounts.verify("admin", password) is not None
    assert accounts.get_required("admin").must_change_password
    ensure_first_admin(accounts, tmp_path, env={})  # second start: nothing changes
    assert saved.read_text().strip() == password and accounts.count() == 1
    with index.session() as session:
        assert all(h.startswith("$argon2") for h in session.scalars(select(UserRow.password_hash)))
    index.close()

    on_terminal = tmp_path / "on-terminal"
    index = RecordingIndex(f"sqlite:///{tmp_path / 'terminal.db'}", "post")
    leader, follower = os.openpty()
    with open(follower, "w") as terminal, monkeypatch.context() as patch:
        patch.setattr(sys, "stdout", terminal)
        ensure_first_admin(AccountStore(index), on_terminal, env={})
    shown = os.read(leader, 4096).decode()
    os.close(leader)
    index.close()
    assert (on_terminal / PASSWORD_FILE).read_text().strip() in shown


def test_an_administrator_made_by_another_post_at_the_same_moment_is_taken_as_the_first(tmp_path: Path) -> None:
    """Three posts starting at once on a new shared catalog: another one makes the administrator between this one
    counting none and looking the name up. Theirs stands; this post starts (it once stopped: "the name 'admin' is
    taken by another role", seen in the district's tests)."""
    index = RecordingIndex(f"sqlite:///{tmp_path / 'index.db'}", "post-a")
    other_index = RecordingIndex(f"sqlite:///{tmp_path / 'index.db'}", "post-b", migrate=False)
    other_post = AccountStore(other_index)

    class Raced(AccountStore):
        def count(self, role: str | None = None) -> int:
            counted = super().count(role)
            if role == "admin" and not counted:
                other_post.add("admin", "their-long-password", "admin")
            return counted

    ensure_first_admin(Raced(index), tmp_path, env={})
    assert not (tmp_path / PASSWORD_FILE).exists() and AccountStore(index).verify("admin", "their-long-password")
    index.close()
    other_index.close()


def test_a_saved_password_is_settled_at_start(tmp_path: Path) -> None:
    """A station from before passwords had to be changed keeps the generated one in its file: still the
    administrator's, it must now be changed; changed meanwhile (another box of the database), the file goes."""
    index = RecordingIndex(f"sqlite:///{tmp_path / 'index.db'}", "post")
    accounts = AccountStore(index)
    accounts.add("admin", "generated-long-password", "admin")
    saved = tmp_path / PASSWORD_FILE
    saved.write_text("generated-long-password\n")
    ensure_first_admin(accounts, tmp_path, env={})
    assert accounts.get_required("admin").must_change_password and saved.exists()
    accounts.set_password("admin", "changed-on-another-box")
    ensure_first_admin(accounts, tmp_path, env={})
    assert not saved.exists() and not accounts.get_required("admin").must_change_password
    index.close()


def test_the_generated_password_must_be_changed_at_the_first_login(tmp_path: Path, make_station,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("NVR_ADMIN_PASSWORD")
    station, _operator = make_station(station_config(tmp_path, [], runtime={"recorder_processes": 1}))
    saved = station.config.data_dir / PASSWORD_FILE
    generated = saved.read_text().strip()
    must_change = "change the generated password first: POST /api/users/admin/password with the new one"
    with serving(station) as base, httpx.Client(base_url=base, timeout=10) as client:
        first = client.post("/api/auth/login", json={"username": "admin", "password": generated})
        assert first.status_code == 200 and first.json()["must_change_password"] is True
        token = first.json()["token"]
        client.headers["Authorization"] = f"Bearer {token}"
        for method, path in (("GET", "/api/cameras"), ("GET", "/api/users"), ("GET", "/api/audit"),
                             ("GET", "/openapi.json"), ("POST", "/api/users/duty/password")):
            refused = client.request(method, path, json={"password": "another-long-password"})
            assert refused.status_code == 403 and refused.json()["detail"] == must_change, path
        with pytest.raises(InvalidStatus):
            connect(f"{base.replace('http', 'ws', 1)}/api/events/ws?token={token}", open_timeout=10)
        assert client.get("/api/auth/me").json()["must_change_password"] is True
        same = client.post("/api/users/admin/password", json={"password": generated})
        assert same.status_code == 400 and "must differ" in same.json()["detail"]
        assert client.post("/api/users/admin/password", json={"password": "a-new-admin-password"}).status_code == 200
        assert not saved.exists()
        assert client.get("/api/auth/me").status_code == 401, "the change ended the session"
        again = client.post("/api/auth/login", json={"username": "admin", "password": "a-new-admin-password"})
        assert again.json()["must_change_password"] is False
        client.headers["Authorization"] = f"Bearer {again.json()['token']}"
        assert client.get("/api/users").status_code == 200


def test_passwords_are_hashed_at_full_strength(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The station's own cost (the other tests hash cheaply: conftest's `quick_password_hashes`): Argon2id,
    64 MiB, 3 passes, 4 lanes, RFC 9106's second recommended choice."""
    monkeypatch.setattr(accounts, "PasswordHasher", argon2.PasswordHasher)
    index = RecordingIndex(f"sqlite:///{tmp_path / 'nvr.db'}", "post")
    store = AccountStore(index)
    store.add("guard", "a-long-enough-password", "operator")
    with index.session() as session:
        stored = session.scalars(select(UserRow.password_hash)).one()
    assert stored.startswith("$argon2id$v=19$m=65536,t=3,p=4$")
    assert store.verify("guard", "a-long-enough-password") is not None
    assert store.verify("guard", "a-wrong-password-here") is None and store.verify("nobody", "whatever-it-is") is None
    index.close()


def test_the_unknown_users_hash_is_made_at_the_first_log_in_of_anyone(tmp_path: Path,
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    """Making the store hashes nothing (a command, a station process, starts at once); the first log-in, even of a
    known user, makes the hash that unknown users' passwords are checked against, so that neither is quicker."""
    hashed: list[str] = []
    checked: list[str] = []  # the hashes passwords were checked against

    class Counting(argon2.PasswordHasher):
        def hash(self, password: str | bytes, *, salt: bytes | None = None) -> str:
            hashed.append(str(password))
            made = super().hash(password, salt=salt)
            checked.append(f"made {made}")
            return made

        def verify(self, hash: str | bytes, password: str | bytes) -> Literal[True]:  # noqa: A002 (argon2's own name)
            checked.append(str(hash))
            return super().verify(hash, password)

    monkeypatch.setattr(accounts, "PasswordHasher", lambda: Counting(time_cost=1, memory_cost=64, parallelism=1))
    index = RecordingIndex(f"sqlite:///{tmp_path / 'nvr.db'}", "post")
    store = AccountStore(index)
    assert hashed == []
    store.add("guard", "a-long-enough-password", "operator")
    assert hashed == ["a-long-enough-password"]
    assert store.verify("guard", "a-long-enough-password") is not None
    assert len(hashed) == 2, "the unknown users' hash, at the first log-in"
    assert store.verify("nobody", "a-long-enough-password") is None
    assert f"made {checked[-1]}" == checked[1], "an unknown user's password checked in full, against that hash"
    assert store.verify("guard", "a-wrong-password-here") is None and len(hashed) == 2, "made once"
    index.close()


def test_the_login_limiter_keeps_bounded_records() -> None:
    clock = ManualClock()
    limiter = LoginLimiter(capacity=100, clock=clock)
    for _ in range(5):
        limiter.failed("admin", "203.0.113.1")
    assert limiter.retry_after("admin", "203.0.113.1") == 300
    for n in range(10_000):
        limiter.failed(f"name-{n}", f"10.0.{n // 256}.{n % 256}")
        limiter.succeeded(f"name-{n}", "192.0.2.1")
    assert limiter.records() == 300  # at most 100 of each kind; the oldest went first
    assert limiter.retry_after("admin", "203.0.113.1") == 0
    clock.now += FAILURES_KEPT
    limiter.failed("admin", "203.0.113.1")
    assert limiter.records() == 2 + 100, "failures are forgotten after a day, logins after a month"

    tracemalloc.start()
    try:
        limiter = LoginLimiter()
        for n in range(3 * CAPACITY):
            name = f"{n:064d}"  # as long as a name may be, from as long an address as there is
            limiter.failed(name, f"2001:db8::{n:x}")
            limiter.succeeded(name, f"2001:db8:1::{n:x}")
        held, _peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert limiter.records() == 3 * CAPACITY and held < 12_000_000, held


def test_account_rules() -> None:
    index = RecordingIndex("sqlite:///:memory:", "post")
    accounts = AccountStore(index)
    for username, password, role in (("Bad Name", "long-enough-pw", "viewer"), ("ok", "short", "viewer"),
                                     ("ok", "long-enough-pw", "superuser"),
                                     ("admin\n", "long-enough-pw", "admin")):  # an "admin" lookalike (an audit)
        with pytest.raises(AccountError):
            accounts.add(username, password, role)
    accounts.add("ok", "long-enough-pw", "viewer")
    with pytest.raises(AccountError, match="already exists"):
        accounts.add("ok", "long-enough-pw", "viewer")
    index.close()


def test_a_token_is_checked_once_in_a_while_and_every_change_counts_at_once(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'index.db'}"
    index, elsewhere = RecordingIndex(url, "post"), RecordingIndex(url, "post")  # `elsewhere`: the CLI's process
    accounts, cli = AccountStore(index), AccountStore(elsewhere)
    index.camera_id("nha-5")
    user = accounts.add("nha-so-5", "household-pass", "viewer")
    queries: list[str] = []
    event.listen(index.engine, "before_cursor_execute", lambda *args: queries.append(args[2]))

    token = accounts.create_token(user, ttl_ms=60_000)
    assert accounts.user_for_token(token) == user
    asked = len(queries)
    for _ in range(20):
        assert accounts.user_for_token(token) == user
    assert len(queries) == asked  # remembered: no query per request

    accounts.grant("nha-so-5", ["nha-5"])
    assert accounts.user_for_token(token).cameras == {"nha-5"}  # type: ignore[union-attr]
    accounts.revoke("nha-so-5", ["nha-5"])
    assert accounts.user_for_token(token).cameras == frozenset()  # type: ignore[union-attr]
    accounts.set_password("nha-so-5", "another-household-pass")
    assert accounts.user_for_token(token) is None
    token = accounts.create_token(user, ttl_ms=60_000)
    assert accounts.user_for_token(token) == user
    accounts.revoke_token(token)
    assert accounts.user_for_token(token) is None

    token = accounts.create_token(user, ttl_ms=60_000)
    assert accounts.user_for_token(token) == user
    cli.set_password("nha-so-5", "third-household-pass")  # another process: seen within the cache's seconds
    wait_for(lambda: accounts.user_for_token(token) is None, TOKEN_CACHE_SECONDS + 2, "the CLI's change")
    index.close()
    elsewhere.close()


def test_user_command_line(tmp_path: Path) -> None:
    config = tmp_path / "config.yaml"
    config.write_text(yaml.safe_dump({"station": {"id": "post"},
                                      "cameras": [{"name": "nha-5", "record_url": "demo://alley"}]}))

    def nvr(*args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "nvr", "--config", str(config), "user", *args],
                              input=stdin, capture_output=True, text=True, timeout=60, check=False)

    assert nvr("add", HOUSEHOLD, "--role", "viewer", stdin=HOUSEHOLD_PASSWORD + "\n").returncode == 0
    assert nvr("grant", HOUSEHOLD, "nha-5").returncode == 0
    unknown = nvr("grant", HOUSEHOLD, "ghost")
    assert unknown.returncode == 2 and "no camera named ghost" in unknown.stderr
    assert nvr("list").stdout.strip() == f"{HOUSEHOLD}\tviewer\tnha-5"
    assert nvr("revoke", HOUSEHOLD, "nha-5").returncode == 0
    assert nvr("passwd", HOUSEHOLD, stdin="another-long-password\n").returncode == 0
    assert nvr("list").stdout.strip() == f"{HOUSEHOLD}\tviewer\tnone"
    index = RecordingIndex(f"sqlite:///{tmp_path / 'data' / 'nvr.db'}", "post")
    accounts = AccountStore(index)
    assert accounts.verify(HOUSEHOLD, "another-long-password") is not None
    ensure_first_admin(accounts, tmp_path / "data", env={})  # as the first `nvr run` does
    assert nvr("passwd", "admin", stdin="an-admin-password\n").returncode == 0
    assert not (tmp_path / "data" / PASSWORD_FILE).exists() and not accounts.get_required("admin").must_change_password
    index.close()


def test_admin_manages_accounts_and_grants_through_the_api(station_and_operator) -> None:
    station, operator = station_and_operator
    admin = TestClient(create_app(station))
    admin.headers["Authorization"] = f"Bearer {login(admin, 'admin', os.environ['NVR_ADMIN_PASSWORD']).json()['token']}"
    created = admin.post("/api/users", json={"username": HOUSEHOLD, "password": HOUSEHOLD_PASSWORD, "role": "viewer"})
    assert created.status_code == 201
    assert admin.post("/api/users", json={"username": HOUSEHOLD, "password": HOUSEHOLD_PASSWORD,
                                          "role": "viewer"}).status_code == 400
    assert admin.put(f"/api/users/{HOUSEHOLD}/grants", json={"cameras": ["nha-5"]}).json()["cameras"] == ["nha-5"]
    assert admin.put(f"/api/users/{HOUSEHOLD}/grants", json={"cameras": ["ghost"]}).status_code == 400
    assert admin.put("/api/users/nobody/grants", json={"cameras": []}).status_code == 404
    to_an_admin = admin.put("/api/users/admin/grants", json={"cameras": ["nha-5"]})
    assert to_an_admin.status_code == 400 and "grants are for viewers" in to_an_admin.json()["detail"], "not kept"
    assert admin.put("/api/users/admin/grants", json={"cameras": []}).status_code == 200
    household = TestClient(create_app(station))
    assert login(household, HOUSEHOLD, HOUSEHOLD_PASSWORD).status_code == 200
    assert [c["name"] for c in household.get("/api/cameras").json()] == ["nha-5"]
    assert admin.post(f"/api/users/{HOUSEHOLD}/password", json={"password": "a-brand-new-pass"}).status_code == 200
    assert household.get("/api/cameras").status_code == 401, "a password change ends the user's sessions"
    assert operator.get("/api/users").status_code == 403
    actions = [e["action"] for e in admin.get("/api/audit?username=admin").json()]
    assert {"user_add", "grant", "user_passwd"} <= set(actions)
    segment = station.index.segments("nha-5", 0, 2**62)[0]
    window = f"start={segment.start_ms / 1000}&end={segment.end_ms / 1000}"
    played = operator.get(f"/api/cameras/nha-5/clip.mp4?{window}&purpose=playback")
    assert played.status_code == 200 and played.headers["content-disposition"].startswith("inline")
    assert "playback" in [e["action"] for e in admin.get("/api/audit?username=duty").json()]
