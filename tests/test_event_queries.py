"""The events of a window, on SQLite and PostgreSQL: those that began long before it are in it, each once, and
SQLite reads the window's events from their starts, not every older event."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event

from storage.events import FEW_CAMERAS, EventStore
from storage.index import RecordingIndex

HOUR = 3_600_000
W = 1_000 * HOUR  # the window's start
MANY = [f"cam{k}" for k in range(FEW_CAMERAS + 2)]


@pytest.fixture
def index(database_url: str) -> Iterator[RecordingIndex]:
    created = RecordingIndex(database_url, "post")
    yield created
    created.close()


def made(store: EventStore, camera: str, type_: str, start: int, end: int | None) -> int:
    found = store.open(camera, type_, start, 0.5, [])
    if end is not None:
        store.update(found.id, end_ms=end)
    return found.id


@pytest.mark.parametrize("cameras", [None, ["cam0", "cam1"], MANY], ids=["all", "few", "many"])
def test_events_that_began_long_before_a_window_are_in_it_once(index: RecordingIndex,
                                                              cameras: list[str] | None) -> None:
    store = EventStore(index)
    made(store, "cam0", "motion", W - 10 * HOUR, W - 9 * HOUR)  # over long before
    covered = made(store, "cam1", "tamper_covered", W - 48 * HOUR, W + 60_000)  # two days covered, into the window
    going_on = made(store, "cam0", "motion", W - 5 * HOUR, None)  # not ended yet
    just_before = made(store, "cam1", "motion", W - HOUR // 2, W + 10_000)  # began within the hour before
    made(store, "cam0", "motion", W - 2 * HOUR, W - HOUR - 1)  # ended before the window
    inside = made(store, "cam0", "motion", W + HOUR, W + HOUR + 20_000)
    made(store, "cam1", "motion", W + 3 * HOUR, W + 3 * HOUR + 1_000)  # after it

    def ids(limit: int = 50, **options: Any) -> list[int]:
        return [e.id for e in store.query(cameras=cameras, start_ms=W, end_ms=W + 2 * HOUR, limit=limit,
                                          **{"types": None, **options})]

    assert ids() == [inside, just_before, going_on, covered]
    assert ids(limit=2) == [inside, just_before]
    assert ids(types=["tamper_covered"]) == [covered]
    assert [camera for camera, _start, _end in sorted(store.spans(W, W + 2 * HOUR), key=lambda s: s[1])] == \
        ["cam1", "cam0", "cam1", "cam0"]


def test_a_windows_events_are_read_from_their_starts(tmp_path: Path) -> None:
    """The health page asks for the tampering of every camera over a week: the query walked the station's index back
    from the window's end through every older event (7.8 s over a 200-camera post's month, 1.9 million events).
    SQLite's plan must bound the walk by the window's start, and find the long events by their own index."""
    index = RecordingIndex(f"sqlite:///{tmp_path / 'nvr.db'}", "post")
    store = EventStore(index)
    for camera in MANY:
        made(store, camera, "motion", W, W + 1_000)
    asked: list[tuple[str, Any]] = []
    event.listen(index.engine, "before_cursor_execute",
                 lambda _conn, _cursor, statement, parameters, *_rest: asked.append((statement, parameters)))
    for cameras in (None, MANY, MANY[:2]):
        asked.clear()
        assert store.query(cameras=cameras, types=["tamper_covered"], start_ms=W, end_ms=W + HOUR, limit=10) == []
        plans = []
        captured = tuple(asked)  # the plans' own statements are heard too
        with index.engine.connect() as connection:
            for statement, parameters in captured:
                if "FROM events" in statement:
                    plans.append(" ".join(str(row) for row in connection.exec_driver_sql(
                        f"EXPLAIN QUERY PLAN {statement}", parameters)))
        recent, long = plans
        assert "start_ms>? AND start_ms<?" in recent, recent
        assert "ix_events_long" in long, long
    index.close()
