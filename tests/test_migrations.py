"""Schema migrations: a locked step that two boxes may start at once, and that keeps every existing row."""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml
from alembic import command
from alembic.config import Config as AlembicConfig
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, inspect, text
from sqlalchemy.exc import IntegrityError

from storage.accounts import AccountStore
from storage.camera_store import CameraStore
from storage.events import EventStore
from storage.index import RecordingIndex, Segment, make_engine
from storage.schema import HEAD_REVISION, MIGRATIONS, _alembic_config, upgrade
from tests.support.postgres import PostgresServer


def _migrate_to(url: str, revision: str, step: Callable[[AlembicConfig, str], None] = command.upgrade) -> None:
    """What a database written by an older release looks like (or one brought back down by `step`)."""
    engine = make_engine(url)
    cfg = AlembicConfig()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    with engine.begin() as connection:
        cfg.attributes["connection"] = connection
        step(cfg, revision)
    engine.dispose()


def _station_at(url: str, revision: str) -> Engine:
    """An engine on a catalog of post-a's at an older `revision` (its rows of that time to be written)."""
    engine = make_engine(url)
    cfg = _alembic_config("post-a")
    with engine.begin() as connection:
        cfg.attributes["connection"] = connection
        command.upgrade(cfg, revision)
    return engine


def _fill_release_0003(url: str) -> None:
    camera = "(SELECT id FROM cameras WHERE name = 'hem-4')"
    engine = make_engine(url)
    with engine.begin() as connection:
        for statement in (
            "INSERT INTO cameras (name) VALUES ('hem-4')",
            ("INSERT INTO segments (camera_id, path, start_ms, end_ms, bytes, keyframes_ms)"
             f" VALUES ({camera}, 'hem-4/d/1000.mp4', 1000, 61000, 500, '[0]')"),
            f"INSERT INTO outages (camera_id, start_ms, end_ms, reason) VALUES ({camera}, 70000, NULL, 'timed out')",
            ("INSERT INTO events (camera_id, type, start_ms, end_ms, score, boxes, snapshot, updated_ms)"
             f" VALUES ({camera}, 'motion', 2000, 3000, 0.8, '[]', NULL, 3000)"),
            "INSERT INTO users (username, password_hash, role, created_ms) VALUES ('nha-5', 'x', 'viewer', 0)",
            f"INSERT INTO grants (user_id, camera_id) SELECT id, {camera} FROM users",
            ("INSERT INTO audit (at_ms, username, action, camera, detail, remote)"
             " VALUES (5, 'admin', 'clip', 'hem-4', '', NULL)"),
        ):
            connection.execute(text(statement))
    engine.dispose()


def test_upgrade_keeps_every_row_and_gives_it_to_the_station_that_upgrades(database_url: str) -> None:
    _migrate_to(database_url, "0003")
    _fill_release_0003(database_url)
    index = RecordingIndex(database_url, "post-a")
    try:
        assert [(s.path, s.sha256) for s in index.all_segments()] == [("hem-4/d/1000.mp4", None)], \
            "footage recorded before hashes were kept has none"
        assert [o.end_ms for o in index.outages("hem-4", 0, 10**6)] == [None]
        assert [e.type for e in EventStore(index).query(cameras=None, types=None, start_ms=0, end_ms=10**6,
                                                         limit=10)] == ["motion"]
        user = AccountStore(index).get("nha-5")
        assert user is not None and user.cameras == {"hem-4"}, "a table rebuild must not cascade into grants"
        with index.engine.connect() as connection:
            for table in ("cameras", "segments", "outages", "events", "audit"):
                owners = connection.execute(text(f"SELECT DISTINCT station FROM {table}")).scalars().all()
                assert owners == ["post-a"], table
        columns = {c["name"]: c for c in inspect(index.engine).get_columns("segments")}
        assert columns["station"]["default"] is None, "no default station: every new row must name its own"
    finally:
        index.close()
    other = RecordingIndex(database_url, "post-b")
    try:
        other.add_segment(Segment("hem-4", "hem-4/d/1000.mp4", 1000, 61000, 10))  # same camera name, same path
        assert [s.bytes for s in other.all_segments()] == [10]
        with pytest.raises(IntegrityError):
            other.add_segment(Segment("hem-4", "hem-4/d/1000.mp4", 1000, 61000, 10))
    finally:
        other.close()


def test_cameras_of_an_older_release_stand_where_they_stand_now_for_all_their_footage(database_url: str) -> None:
    """Before 0016 no history of a camera's place was kept: its place now is the one known for all it recorded."""
    engine = _station_at(database_url, "0015")
    with engine.begin() as connection:
        connection.execute(text("INSERT INTO cameras (station, name, settings) VALUES ('post-a', 'hem-4', "
                                "'{\"title\": \"Hẻm 4\", \"location\": \"Trước nhà số 12\"}')"))
        connection.execute(text("INSERT INTO cameras (station, name, settings) VALUES ('post-a', 'cu', NULL)"))
    engine.dispose()
    index = RecordingIndex(database_url, "post-a")
    try:
        places = CameraStore(index)
        assert places.place("hem-4", 0) == places.place("hem-4", 2**62) == ("Hẻm 4", "Trước nhà số 12")
        assert places.place("cu", 0) is None, "a camera known only from its footage has no place"
        places.put("hem-4", {"title": "Hẻm 4", "location": "Chợ"}, "catalog", 5000)
        assert places.place("hem-4", 4999) == ("Hẻm 4", "Trước nhà số 12")
        assert places.place("hem-4", 5000) == ("Hẻm 4", "Chợ")
    finally:
        index.close()


def test_boxes_migrating_a_fresh_database_at_once_all_succeed(database_url: str) -> None:
    boxes = 4
    start = threading.Barrier(boxes)
    revisions: list[str | None] = []
    errors: list[Exception] = []

    def box(number: int) -> None:
        engine = make_engine(database_url)
        try:
            start.wait(10)
            revisions.append(upgrade(engine, f"post-{number}"))
        except Exception as exc:  # reported below, in the test's thread
            errors.append(exc)
        finally:
            engine.dispose()

    threads = [threading.Thread(target=box, args=(n,), daemon=True) for n in range(boxes)]
    for thread in threads:
        thread.start()
    deadline = time.monotonic() + 60
    for thread in threads:
        thread.join(max(0.0, deadline - time.monotonic()))
    assert not any(thread.is_alive() for thread in threads), "a migration is stuck"
    assert not errors, errors
    assert revisions == [HEAD_REVISION] * boxes
    engine = make_engine(database_url)
    with engine.connect() as connection:
        assert connection.execute(text("SELECT version_num FROM alembic_version")).scalars().all() == [HEAD_REVISION]
    engine.dispose()


def test_nvr_migrate_command(tmp_path: Path, postgres: PostgresServer) -> None:
    postgres.create_database("migrate_cli")
    config = tmp_path / "config.yaml"
    config.write_text(yaml.safe_dump({"data_dir": "data", "database": {"url": postgres.url("migrate_cli")}}))
    done = subprocess.run([sys.executable, "-m", "nvr", "--config", str(config), "migrate"],
                          capture_output=True, text=True, timeout=120, stdin=subprocess.DEVNULL, check=False)
    assert done.returncode == 0, done.stderr
    station = (tmp_path / "data" / "station-id").read_text().strip()
    assert f"schema at revision {HEAD_REVISION} (station {station})" in done.stdout


@pytest.mark.parametrize(("table", "before"), [("motion_grids", "0005"), ("machine_keys", "0009"),
                                                 ("district_cases", "0010"), ("district_case_items", "0010"),
                                                 ("district_case_posts", "0010"), ("camera_places", "0015")])
def test_a_new_table_is_the_models_and_comes_off_again(database_url: str, table: str, before: str) -> None:
    from alembic.autogenerate import compare_metadata
    from alembic.runtime.migration import MigrationContext

    from storage.models import Base

    index = RecordingIndex(database_url, "post-a")
    index.close()
    engine = make_engine(database_url)
    with engine.connect() as connection:
        differences = compare_metadata(MigrationContext.configure(connection), Base.metadata)
    assert [d for d in differences if table in repr(d)] == []
    _migrate_to(database_url, before, command.downgrade)
    assert table not in inspect(engine).get_table_names()
    engine.dispose()
    RecordingIndex(database_url, "post-a").close()  # and up again
    engine = make_engine(database_url)
    assert table in inspect(engine).get_table_names()
    engine.dispose()


def test_ids_of_deleted_cases_items_and_bookmarks_are_never_given_again(database_url: str) -> None:
    """SQLite gave the newest row's id, once it was deleted, to the next row (found in review: the audit's "case 4"
    named two cases; a case item's bookmark id pointed at an unrelated bookmark). A catalog of the release before
    keeps its rows and indexes through the rebuild, and from then on an id is never handed out twice."""
    from storage.bookmarks import BookmarkStore
    from storage.cases import CaseStore, NewItem

    engine = _station_at(database_url, "0016")
    with engine.begin() as connection:
        connection.execute(text("INSERT INTO cameras (station, name) VALUES ('post-a', 'hem-4')"))
        camera = "(SELECT id FROM cameras WHERE name = 'hem-4')"
        connection.execute(text("INSERT INTO cases (station, title, note, status, created_ms, updated_ms) "
                                "VALUES ('post-a', 'trộm xe', '', 'open', 1, 1)"))
        connection.execute(text("INSERT INTO case_items (case_id, camera_id, start_ms, end_ms, note, added_ms, "
                                f"follows_event) SELECT id, {camera}, 1000, 2000, '', 1, false FROM cases"))
        connection.execute(text("INSERT INTO bookmarks (station, camera_id, at_ms, note, created_ms) "
                                f"VALUES ('post-a', {camera}, 1500, 'người lạ', 1)"))
    engine.dispose()
    index = RecordingIndex(database_url, "post-a")
    try:
        cases, bookmarks = CaseStore(index), BookmarkStore(index)
        [kept] = cases.all()
        assert kept is not None and kept.title == "trộm xe" and [i.start_ms for i in kept.items] == [1000], \
            "the rebuild kept the case and its item (foreign keys off: no cascade)"
        assert bookmarks.get(1) is not None
        names = {ix["name"] for table in ("cases", "case_items", "bookmarks")
                 for ix in inspect(index.engine).get_indexes(table)}
        assert {"ix_cases_station_status", "ix_case_items_case", "ix_bookmarks_station_at"} <= names
        newest = cases.create("t", "", [NewItem("hem-4", 1000, 2000)], "truc-ban")
        item = cases.add_item(newest.id, NewItem("hem-4", 1100, 1900), "truc-ban")
        marked = bookmarks.add("hem-4", 1600, "", "truc-ban")
        assert item is not None and cases.delete(newest.id) and bookmarks.delete(marked.id)
        again = cases.create("t2", "", [NewItem("hem-4", 1000, 2000)], "truc-ban")
        assert again.id > newest.id and min(i.id for i in again.items) > item.id
        assert bookmarks.add("hem-4", 1700, "", "truc-ban").id > marked.id
    finally:
        index.close()


def test_a_database_at_head_is_opened_without_loading_alembic(tmp_path: Path) -> None:
    """`HEAD_REVISION` is the migrations' head; a process opening a database already there skips alembic's import
    and its script folder (a fifth of a command's start-up) and finds the schema as it is."""
    assert ScriptDirectory.from_config(_alembic_config("")).get_current_head() == HEAD_REVISION, "alembic's head"
    url = f"sqlite:///{tmp_path / 'nvr.db'}"
    RecordingIndex(url, "post").close()  # a new database: migrated
    opened = subprocess.run([sys.executable, "-c", (
        "import sys; from storage.index import RecordingIndex; from storage.schema import upgrade;"
        f" index = RecordingIndex({url!r}, 'post'); print(upgrade(index.engine, 'post'), 'alembic' in sys.modules)")],
        capture_output=True, text=True, timeout=60, check=False)
    assert opened.returncode == 0 and opened.stdout.split() == [HEAD_REVISION, "False"], opened.stderr
