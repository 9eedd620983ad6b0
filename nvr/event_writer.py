"""Detection's results go to the catalog, the snapshot folder and then to whoever follows the events (the
event bus, MQTT, webhooks) from a thread of their own: a slow database, or a recorder slow to hand over a
snapshot, never holds up the next tick."""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable
from pathlib import Path

from sqlalchemy.exc import DataError, IntegrityError, SQLAlchemyError

from detect.events import Event as DetectedEvent
from detect.events import EventUpdate
from nvr.event_counts import EventCounts
from storage.catalog_away import RETRY_FIRST_SECONDS, RETRY_MAX_SECONDS, CatalogAway
from storage.events import Event, EventStore

log = logging.getLogger(__name__)
MAX_WAITING = 10_000  # ticks' worth of updates held while the database is slow or away
NO_PICTURE = frozenset({"video_loss", "camera_offline"})  # events about a picture that is not there
Snapshots = Callable[[str], bytes | None]  # a camera's newest picture as a JPEG
Publish = Callable[[Event], None]  # a stored change, handed on; must not wait


def _ms(t: float) -> int:
    return round(t * 1000)


class EventWriter:
    def __init__(self, events: EventStore, publish: Publish, snapshots_dir: Path, snapshots: Snapshots) -> None:
        self._events = events
        self._publish = publish
        self._snapshots_dir = snapshots_dir
        self._snapshots = snapshots
        self._open: dict[tuple[str, str, float], int] = {}  # (camera, type, start) -> event id
        self.counts = EventCounts()
        self._queue: queue.Queue[list[EventUpdate] | None] = queue.Queue(MAX_WAITING)
        self._thread = threading.Thread(target=self._run, name="event-writer", daemon=True)
        self._stopping = threading.Event()
        self._away = CatalogAway(log, "event writer")

    def start(self) -> None:
        self._snapshots_dir.mkdir(parents=True, exist_ok=True)
        self._thread.start()

    def put(self, updates: list[EventUpdate]) -> None:
        """Queue a tick's updates; never waits."""
        if not updates:
            return
        try:
            self._queue.put_nowait(updates)
        except queue.Full:
            log.error("event writer: %d ticks wait for the database; %d event updates dropped", MAX_WAITING,
                      len(updates))

    def stop(self, timeout: float = 10.0) -> None:
        """Write what is queued (up to `timeout`), then end the thread; while the catalog is away, what waits
        for it is given up at once (it is in memory only)."""
        self._queue.put(None)
        if self._away.away:
            self._stopping.set()
        self._thread.join(timeout)
        self._stopping.set()
        self._thread.join(1.0)

    def _run(self) -> None:
        while (updates := self._queue.get()) is not None:
            for update in updates:
                stored = self._record_until_stored(update)
                if stored is not None:
                    self._publish(stored)

    def _record_until_stored(self, update: EventUpdate) -> Event | None:
        """A catalog that is away (a post's link to the district's PostgreSQL) is waited for, the update kept
        and tried again, so the events of an outage are stored, late, rather than lost; a row the database
        refuses for good is logged and dropped."""
        wait = RETRY_FIRST_SECONDS
        while True:
            try:
                stored = self._record(update)
            except (IntegrityError, DataError) as exc:
                log.error("%s: the database refused a %s event: %s", update.event.camera, update.event.type,
                          exc.orig)
                return None
            except SQLAlchemyError as exc:
                self._away.failed(exc)
                if self._stopping.wait(wait):
                    log.error("%s: a %s event was not stored: the catalog did not answer before the stop",
                              update.event.camera, update.event.type)
                    return None
                wait = min(wait * 2, RETRY_MAX_SECONDS)
                continue
            except Exception:
                log.exception("%s: could not store a %s event", update.event.camera, update.event.type)
                return None
            self._away.answered()
            return stored

    def _record(self, update: EventUpdate) -> Event | None:
        event = update.event
        key = (event.camera, event.type, event.start)
        if update.kind == "started":
            if key not in self._open:  # else opened on an earlier try, whose snapshot could not be stored
                self._open[key] = self._events.open(event.camera, event.type, _ms(event.start), event.score,
                                                    event.boxes).id
                self.counts.add(event.camera, event.type)
            return self._events.update(self._open[key], snapshot=self._snapshot(event, self._open[key]))
        event_id = self._open.get(key)
        if event_id is None:  # its start could not be stored
            return None
        if update.kind == "updated":
            return self._events.update(event_id, score=event.score, boxes=event.boxes,
                                       snapshot=self._snapshot(event, event_id))
        del self._open[key]
        assert event.end is not None
        return self._events.update(event_id, end_ms=_ms(event.end))

    def _snapshot(self, event: DetectedEvent, event_id: int) -> str | None:
        """The camera's picture now (the event's best frame so far), saved as `<id>.jpg`."""
        if event.type in NO_PICTURE:
            return None
        image = self._snapshots(event.camera)
        if image is None:
            return None
        name = f"{event_id}.jpg"
        partial = self._snapshots_dir / f".{name}.tmp"
        partial.write_bytes(image)
        partial.replace(self._snapshots_dir / name)
        return name
