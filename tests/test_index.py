"""The index on SQLite and on a real PostgreSQL: the same code, the same answers."""

from __future__ import annotations

import random
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event, inspect, text
from sqlalchemy.exc import IntegrityError

from storage.clock_steps import ClockSteps
from storage.index import JOIN_TOLERANCE_MS, RecordingIndex, Segment
from storage.reserve import SpaceReserve
from storage.schema import HEAD_REVISION
from storage.timeline import recorded_ranges
from storage.usage import storage_usage


def seg(camera: str, start_s: int, end_s: int, size: int = 100) -> Segment:
    return Segment(camera, f"{camera}/d/{start_s * 1000}.mp4", start_s * 1000, end_s * 1000, size, (0, 1000))


@pytest.fixture
def index(database_url: str) -> Iterator[RecordingIndex]:
    created = RecordingIndex(database_url, "post")
    yield created
    created.close()


def test_schema_is_migrated_and_migration_is_repeatable(index: RecordingIndex, database_url: str) -> None:
    tables = set(inspect(index.engine).get_table_names())
    assert {"cameras", "segments", "outages", "users", "grants", "tokens", "audit", "events",
            "alembic_version"} <= tables
    again = RecordingIndex(database_url, "post")  # a restart runs migrations again: nothing changes
    with again.engine.connect() as connection:
        assert connection.execute(text("select version_num from alembic_version")).scalar() == HEAD_REVISION
    again.close()


def test_segments_overlapping_a_window_in_time_order(index: RecordingIndex) -> None:
    for start in (120, 0, 60, 180):
        index.add_segment(seg("a", start, start + 60))
    index.add_segment(seg("b", 30, 90))
    found = index.segments("a", 59_000, 121_000)
    assert [s.start_ms for s in found] == [0, 60_000, 120_000]
    assert found[0].keyframes_ms == (0, 1000) and found[0].id is not None
    assert index.segments("a", 240_000, 300_000) == []
    assert [s.camera for s in index.segments("b", 0, 10**9)] == ["b"]
    assert index.spans("a", 59_000, 121_000) == [(0, 180_000)], "back to back: one recording"
    assert index.spans("a", 240_000, 300_000) == []


def test_a_window_finds_every_segment_reaching_into_it_however_long_before_it_began(index: RecordingIndex) -> None:
    """The search starts at the last segment beginning before the window (less a margin), not at the camera's
    first: a segment longer than the margin, and one overlapping a shorter successor, are still found."""
    hour = 3600
    index.add_segment(seg("a", 0, 3 * hour))  # longer than any margin
    for minute in range(3 * 60, 3 * 60 + 120):
        index.add_segment(seg("a", minute * 60, minute * 60 + 60))
    index.add_segment(seg("a", 10 * hour, 10 * hour + 40 * 60))  # a recording that another, inside it, overlaps
    index.add_segment(seg("a", 10 * hour + 20 * 60, 10 * hour + 21 * 60))
    assert [s.start_ms for s in index.segments("a", int(2.5 * hour * 1000), int(2.6 * hour * 1000))] == [0]
    assert index.spans("a", int(2.5 * hour * 1000), int(2.6 * hour * 1000)) == [(0, 3 * hour * 1000)]
    inside = index.segments("a", (10 * hour + 30 * 60) * 1000, (10 * hour + 31 * 60) * 1000)
    assert [s.start_ms for s in inside] == [10 * hour * 1000]
    assert index.spans("a", (10 * hour + 30 * 60) * 1000, (10 * hour + 31 * 60) * 1000) == [
        (10 * hour * 1000, (10 * hour + 40 * 60) * 1000)]
    assert [s.start_ms // 1000 for s in index.segments("a", 4 * hour * 1000, 4 * hour * 1000 + 1)] == [4 * hour]


def test_spans_join_what_the_timeline_would_join(index: RecordingIndex) -> None:
    """The database's join of segments into recordings gives the ranges Python's merge gives (storage.timeline),
    with overlaps, segments inside others, gaps just under and just over the tolerance."""
    rng = random.Random(7)
    raw, at = [], 0
    for n in range(400):
        start = max(0, at + rng.choice((-5_000, -1, 0, 10, JOIN_TOLERANCE_MS, JOIN_TOLERANCE_MS + 1, 30_000)))
        end = start + rng.choice((500, 2_000, 60_000))
        raw.append((start, end))
        index.add_segment(Segment("a", f"a/{n}.mp4", start, end, 1))
        at = max(at, end)
    for window in ((0, at), (at // 3, at // 2), (raw[100][0] + 1, raw[100][1] - 1)):
        joined = index.spans("a", *window)
        assert len(joined) < len(raw)
        assert recorded_ranges(joined, *window) == recorded_ranges(raw, *window), window


def test_oldest_first_across_cameras_and_totals(index: RecordingIndex) -> None:
    index.add_segment(seg("a", 100, 160, 10))
    index.add_segment(seg("b", 50, 110, 20))
    index.add_segment(seg("a", 160, 220, 30))
    assert [(s.camera, s.start_ms) for s in index.oldest_segments(2)] == [("b", 50_000), ("a", 100_000)]
    assert [s.start_ms for s in index.oldest_segments(10, before_ms=160_000)] == [50_000, 100_000]
    assert index.total_bytes() == 60
    first = index.oldest_segments(1)[0]
    assert first.id is not None
    index.delete_segment(first.id)
    assert index.total_bytes() == 40


def test_outages_open_and_close(index: RecordingIndex) -> None:
    index.open_outage("a", 1000, "Connection refused")
    index.open_outage("a", 2000, "timed out")  # still the same outage: it keeps the cause
    assert [(o.start_ms, o.end_ms, o.reason) for o in index.outages("a", 0, 10_000)] == [
        (1000, None, "Connection refused")]
    index.close_outages(5000, "a")
    index.open_outage("b", 1000, "x")
    index.close_outages(9000)
    assert [(o.start_ms, o.end_ms) for o in index.outages("a", 0, 10_000)] == [(1000, 5000)]
    assert index.outages("a", 6000, 7000) == []
    assert index.outages("b", 0, 10_000)[0].end_ms == 9000


def test_duplicate_path_is_rejected(index: RecordingIndex) -> None:
    index.add_segment(seg("a", 0, 60))
    with pytest.raises(IntegrityError):
        index.add_segment(seg("a", 0, 60))
    assert len(index.segments("a", 0, 10**9)) == 1


def test_the_district_tells_a_viewer_of_the_footage_of_its_own_cameras_only(index: RecordingIndex,
                                                                           database_url: str) -> None:
    """`GET /api/stations` for a household: a post's oldest and newest footage among its granted cameras, not
    the post's (which would tell it of cameras it may not see)."""
    from nvr.district.catalog import DistrictCatalog, Footage

    index.add_segments([seg("nga-tu", 10, 70), seg("nga-tu", 500, 560), seg("nha-5", 100, 160), seg("nha-5", 200, 260)])
    other = RecordingIndex(database_url, "post-b")
    other.add_segment(seg("nha-5", 5, 65))  # the same name at another post: not granted
    other.close()
    catalog = DistrictCatalog(database_url)
    try:
        assert catalog.footage(["post"]) == {"post": Footage(10_000, 500_000)}
        assert catalog.cameras_footage({("post", "nha-5")}) == {"post": Footage(100_000, 200_000)}
        assert catalog.cameras_footage({("post", "nha-5"), ("post", "cong")}) == {"post": Footage(100_000, 200_000)}
        assert catalog.cameras_footage({("post", "cong")}) == {"post": Footage(None, None)}
        assert catalog.cameras_footage(set()) == {}
    finally:
        catalog.close()


def test_a_cameras_spans_and_the_stations_total_are_read_from_the_index_alone(tmp_path: Path) -> None:
    """A segment row is about 400 bytes (its keyframes): the health page's week of spans of 200 cameras and the
    storage figures read 8.6 million of them from a month's catalog (6.7 and 13.8 s cold). SQLite's plans must read
    the camera index alone."""
    index = RecordingIndex(f"sqlite:///{tmp_path / 'nvr.db'}", "post")
    index.add_segments([seg("a", 0, 60), seg("a", 60, 120), seg("b", 0, 60)])
    asked: list[tuple[str, Any]] = []
    event.listen(index.engine, "before_cursor_execute",
                 lambda _conn, _cursor, statement, parameters, *_rest: asked.append((statement, parameters)))
    assert index.spans("a", 0, 200_000) == [(0, 120_000)]
    assert (index.total_bytes(), index.total_bytes(locked=True)) == (300, 0)  # no case open: nothing to walk from
    assert [usage.bytes for usage in storage_usage(index, tmp_path, SpaceReserve(tmp_path / "reserve", 0), ["a", "b"],
                                                   ClockSteps()).cameras] == [200, 100]
    with index.engine.connect() as connection:
        plans = [" ".join(str(row) for row in connection.exec_driver_sql(f"EXPLAIN QUERY PLAN {statement}", parameters))
                 for statement, parameters in list(asked) if "segments" in statement]
    assert len(plans) >= 5, plans
    for plan in plans:
        assert "SCAN segments" not in plan and "ix_segments_station_start" not in plan, plan
        assert "ix_segments_camera_span" not in plan.replace("COVERING INDEX ix_segments_camera_span", ""), plan
    index.close()
