"""Two stations on one database: a station starting on an empty disk leaves the other's rows untouched."""

from __future__ import annotations

import contextlib
import time
from pathlib import Path
from typing import Any

from sqlalchemy import text

from storage.accounts import AccountStore
from storage.audit import AuditLog
from storage.bookmarks import BookmarkStore
from storage.cases import CaseStore, NewItem
from storage.events import EventStore
from storage.index import RecordingIndex, Segment
from storage.layout import segment_relpath
from storage.reconcile import reconcile
from tests.conftest import station_config, wait_for
from tests.support.media import encode_video
from tests.support.rtsp import RtspServer

SCOPED_TABLES = ("cameras", "segments", "outages", "events", "audit")
HOUR = 3_600_000
START = 1_795_000_000_000


def _record_post_a(index: RecordingIndex, segments_dir: Path, now_ms: int) -> None:
    """Post A's catalog: old and recent footage with its files, an open outage, old, ended and open events."""
    for camera in ("cam0", "cam1"):
        for start in (now_ms - 400 * 24 * HOUR, now_ms - 2 * HOUR, now_ms - HOUR):
            path = f"{camera}/day/{start}.mp4"
            (segments_dir / path).parent.mkdir(parents=True, exist_ok=True)
            (segments_dir / path).write_bytes(b"x" * 1000)
            index.add_segment(Segment(camera, path, start, start + 60_000, 1000))
    index.open_outage("cam1", now_ms - 30 * 60_000, "timed out")
    events = EventStore(index)
    old = events.open("cam0", "motion", now_ms - 400 * 24 * HOUR, 0.9, [])
    events.update(old.id, end_ms=now_ms - 400 * 24 * HOUR + 5000)
    recent = events.open("cam0", "motion", now_ms - HOUR + 1000, 0.8, [])
    events.update(recent.id, end_ms=now_ms - HOUR + 9000)
    events.open("cam1", "tamper_covered", now_ms - 10 * 60_000, 1.0, [])
    AuditLog(index).record("clip", username="duty", camera="cam0")


def test_each_query_sees_and_changes_only_its_own_station(database_url: str) -> None:
    post_a, post_b = RecordingIndex(database_url, "post-a"), RecordingIndex(database_url, "post-b")
    try:
        post_a.add_segment(Segment("cam0", "cam0/day/0.mp4", 0, 60_000, 7))
        post_b.add_segment(Segment("cam0", "cam0/day/0.mp4", 0, 60_000, 5))  # same camera, same path: allowed
        post_b.add_segment(Segment("cam0", "cam0/day/60000.mp4", 60_000, 120_000, 5))
        ours = [s.bytes for s in post_b.all_segments()]
        assert ours == [5, 5]
        assert [s.bytes for s in post_b.oldest_segments(10)] == ours
        assert [s.bytes for s in post_b.segments("cam0", 0, 10**9)] == ours
        assert post_b.total_bytes() == 10 and post_a.total_bytes() == 7
        a_row = next(iter(post_a.all_segments()))
        assert a_row.id is not None
        post_b.delete_segment(a_row.id)
        assert list(post_a.all_segments()) == [a_row]

        post_a.open_outage("cam0", 1000, "timed out")
        post_b.open_outage("cam0", 2000, "refused")
        post_b.close_outages(3000)
        assert [o.end_ms for o in post_a.outages("cam0", 0, 10**9)] == [None]
        assert [o.end_ms for o in post_b.outages("cam0", 0, 10**9)] == [3000]

        events_a, events_b = EventStore(post_a), EventStore(post_b)
        theirs = events_a.open("cam0", "motion", 1000, 0.5, [])
        old = events_a.open("cam0", "motion", 0, 0.5, [])
        events_a.update(old.id, end_ms=10)
        events_b.open("cam0", "motion", 2000, 0.5, [])
        events_b.close_open(5000)
        events_b.delete_ended_before(10**9)
        with contextlib.suppress(AssertionError):  # an id that is not post B's: nothing to update, nothing to get
            events_b.update(theirs.id, end_ms=4000)
        assert events_a.get(old.id) is not None and events_a.open_events() == [theirs]
        assert events_b.get(theirs.id) is None
        assert events_b.query(cameras=None, types=None, start_ms=0, end_ms=10**9, limit=10) == []
        assert events_b.spans(0, 2**62) == [] and events_b.open_events() == []
        assert [camera for camera, _start, _end in events_a.spans(0, 2**62)] == ["cam0", "cam0"]

        AuditLog(post_a).record("clip", username="duty", camera="cam0")
        assert AuditLog(post_b).entries(start_ms=0, end_ms=2**62) == []
        accounts_a, accounts_b = AccountStore(post_a), AccountStore(post_b)  # accounts are shared; cameras are not
        accounts_a.add("nha-5", "household-pass", "viewer")
        accounts_a.grant("nha-5", ["cam0"])
        assert accounts_b.get_required("nha-5").cameras == frozenset()

        cases_a, cases_b = CaseStore(post_a), CaseStore(post_b)
        case = cases_a.create("A's case", "", [NewItem("cam0", 0, 60_000)], "duty")
        assert post_a.total_bytes(locked=True) == 7 and post_b.total_bytes(locked=True) == 0
        assert len(post_b.oldest_segments(10, unlocked=True)) == 2, "A's case locks A's footage only"
        assert cases_b.get(case.id) is None and cases_b.all() == [] and not cases_b.delete(case.id)
        assert cases_b.update(case.id, status="closed") is None
        assert cases_b.add_item(case.id, NewItem("cam0", 0, 1000), "x") is None
        assert not cases_b.remove_item(case.id, case.items[0].id) and cases_a.get(case.id) == case
        bookmarks_a, bookmarks_b = BookmarkStore(post_a), BookmarkStore(post_b)
        mark = bookmarks_a.add("cam0", 1000, "A's", "duty")
        assert bookmarks_b.get(mark.id) is None and bookmarks_b.query(["cam0"], 0, 10**9, 10) == []
        assert bookmarks_b.update(mark.id, "x") is None and not bookmarks_b.delete(mark.id)
        assert bookmarks_a.get(mark.id) == mark
    finally:
        post_a.close()
        post_b.close()


def test_reconcile_indexes_its_own_file_where_another_station_has_a_row(database_url: str, tmp_path: Path) -> None:
    post_a, post_b = RecordingIndex(database_url, "post-a"), RecordingIndex(database_url, "post-b")
    try:
        path = segment_relpath("cam0", START)
        (tmp_path / path).parent.mkdir(parents=True)
        encode_video(tmp_path / path, seconds=1)
        post_a.add_segment(Segment("cam0", path, START, START + 1000, 10))  # post A's file, on post A's disk
        report = reconcile(post_b, tmp_path)  # post B finds a file of its own at the same path
        assert report.indexed == [path] and not report.dropped_rows
        assert [s.path for s in post_b.all_segments()] == [path]
        assert [s.bytes for s in post_a.all_segments()] == [10]
    finally:
        post_a.close()
        post_b.close()


def _rows_of(index: RecordingIndex, station: str) -> dict[str, list[Any]]:
    with index.engine.connect() as connection:
        return {table: [tuple(row) for row in connection.execute(
                    text(f"SELECT * FROM {table} WHERE station = :station ORDER BY id"), {"station": station})]
                for table in SCOPED_TABLES}


def test_a_station_starting_on_an_empty_disk_leaves_the_others_rows_alone(
        database_url: str, cameras: RtspServer, tmp_path: Path, make_station) -> None:
    post_a = RecordingIndex(database_url, "post-a")
    a_segments = tmp_path / "a" / "segments"
    now_ms = round(time.time() * 1000)
    _record_post_a(post_a, a_segments, now_ms)
    before = _rows_of(post_a, "post-a")
    assert all(before.values())
    try:
        # post B: the same database, the same camera names, an empty disk, and a retention that takes everything
        config = station_config(
            tmp_path / "b", [{"name": name, "record_url": cameras.url(name), "detect": {"enabled": False}}
                             for name in ("cam0", "cam1")],
            station={"id": "post-b"}, database={"url": database_url},
            storage={"retain_days": 0.01, "events_days": 0.01, "max_bytes": 1})
        station, operator = make_station(config)  # reconciles, closes open outages and events, first retention
        wait_for(lambda: station.index.segments("cam0", 0, 2**62), 20, "post B's own footage")
        deleted = station.retention.enforce(round(time.time() * 1000))
        assert deleted, "post B's retention had work to do: its own footage is over quota"

        assert _rows_of(post_a, "post-a") == before
        assert all((a_segments / s.path).exists() for s in post_a.all_segments())
        assert not operator.get("/api/events").json()
        window = {"start": (now_ms - 3 * HOUR) // 1000, "end": (now_ms - HOUR // 2) // 1000}
        assert operator.get("/api/cameras/cam0/recordings", params=window).json()["ranges"] == []
        assert [s.path for s in post_a.oldest_segments(1)] == [f"cam0/day/{now_ms - 400 * 24 * HOUR}.mp4"]
    finally:
        post_a.close()
