"""Detection's results go to the catalog, the snapshot folder and then to whoever follows the events (the
event bus, MQTT, webhooks) from a thread of their own: a slow database, or a recorder slow to hand over a
snapshot, never holds up the next tick.

While the catalog is away (a post's link to the district's PostgreSQL) the updates wait in memory and are
tried again; those still waiting when the station stops are written to a file in the data folder
(WAITING_FILE) and stored, in order, at the next start, without snapshots (the picture then is not the
event's). A station killed outright during an outage still loses them.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import queue
import threading
from collections.abc import Callable
from contextlib import suppress
from pathlib import Path
from typing import Any, get_args

from sqlalchemy.exc import DataError, IntegrityError, SQLAlchemyError

from detect.events import Event as DetectedEvent
from detect.events import EventUpdate, UpdateKind
from nvr.event_counts import EventCounts
from storage.catalog_away import RETRY_FIRST_SECONDS, RETRY_MAX_SECONDS, CatalogAway
from storage.events import Event, EventStore
from storage.index import CONNECT_TIMEOUT_SECONDS
from storage.segment_file import fsync_path

log = logging.getLogger(__name__)
MAX_WAITING = 10_000  # ticks' worth of updates held while the database is slow or away
NO_PICTURE = frozenset({"video_loss", "camera_offline"})  # events about a picture that is not there
WAITING_FILE = "events-waiting.jsonl"  # in the data folder: updates the catalog had not taken at a stop
Snapshots = Callable[[str], bytes | None]  # a camera's newest picture as a JPEG
Publish = Callable[[Event], None]  # a stored change, handed on; must not wait


def _ms(t: float) -> int:
    return round(t * 1000)


class _Stopped(Exception):
    """The station stops while the catalog is away."""


class EventWriter:
    def __init__(self, events: EventStore, publish: Publish, snapshots_dir: Path, snapshots: Snapshots,
                 waiting: Path | None = None) -> None:
        self._events = events
        self._publish = publish
        self._snapshots_dir = snapshots_dir
        self._snapshots = snapshots
        self._waiting = waiting  # where what still waits for the catalog at a stop is kept for the next start
        self._replaying = False  # the first batch is what waited at the last stop
        self._open: dict[tuple[str, str, float], int] = {}  # (camera, type, start) -> event id
        self.counts = EventCounts()
        self._queue: queue.Queue[list[EventUpdate] | None] = queue.Queue(MAX_WAITING)
        self._thread = threading.Thread(target=self._run, name="event-writer", daemon=True)
        self._stopping = threading.Event()
        self._away = CatalogAway(log, "event writer")

    def start(self) -> None:
        self._snapshots_dir.mkdir(parents=True, exist_ok=True)
        waited = self._read_waiting()
        if waited is not None:  # the file is removed once they are stored
            self._replaying = True
            self._queue.put(waited)
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
        for it goes to the waiting file at once. A database call under way when the time is up is waited for as
        long as a connection may take (its failure sends what waits to the file too)."""
        if self._away.away:
            self._stopping.set()
        try:
            self._queue.put(None, timeout=timeout)  # the end, after what is queued (a full queue: stop anyway)
        except queue.Full:
            self._stopping.set()
        self._thread.join(timeout)
        self._stopping.set()
        self._thread.join(CONNECT_TIMEOUT_SECONDS + 2.0)
        if self._thread.is_alive():
            log.error("event writer: still waiting for the database at the stop; what it holds is lost")

    def _run(self) -> None:
        while (updates := self._next()) is not None:
            for n, update in enumerate(updates):
                try:
                    stored = self._record_until_stored(update)
                except _Stopped:
                    self._keep_waiting(updates[n:] + self._rest_of_queue())
                    return
                if stored is not None:
                    self._publish(stored)
            if self._replaying and self._waiting is not None:
                self._replaying = False
                try:
                    self._waiting.unlink(missing_ok=True)
                except OSError as exc:
                    log.error("%s could not be removed (%s): its updates will be stored again at the next start",
                              self._waiting, exc)

    def _next(self) -> list[EventUpdate] | None:
        """The next tick's updates; None at the end (or once stopping with nothing queued: a stop that found the
        queue full could not put the end in)."""
        while True:
            try:
                return self._queue.get(timeout=0.5)
            except queue.Empty:
                if self._stopping.is_set():
                    return None

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
                    raise _Stopped from None
                wait = min(wait * 2, RETRY_MAX_SECONDS)
                continue
            except Exception:
                log.exception("%s: could not store a %s event", update.event.camera, update.event.type)
                return None
            self._away.answered()
            return stored

    def _record(self, update: EventUpdate) -> Event | None:
        event = update.event
        key = _key(event)
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
        assert event.end is not None
        stored = self._events.update(event_id, end_ms=_ms(event.end))
        del self._open[key]  # only once stored: a failed try keeps the id for the next
        return stored

    def _snapshot(self, event: DetectedEvent, event_id: int) -> str | None:
        """The camera's picture now (the event's best frame so far), saved as `<id>.jpg`."""
        if event.type in NO_PICTURE or self._replaying:
            return None
        image = self._snapshots(event.camera)
        if image is None:
            return None
        name = f"{event_id}.jpg"
        partial = self._snapshots_dir / f".{name}.tmp"
        partial.write_bytes(image)
        partial.replace(self._snapshots_dir / name)
        return name

    def _rest_of_queue(self) -> list[EventUpdate]:
        rest: list[EventUpdate] = []
        while True:
            try:
                updates = self._queue.get_nowait()
            except queue.Empty:
                return rest
            rest += updates or []

    def _keep_waiting(self, updates: list[EventUpdate]) -> None:
        """`updates` to the waiting file (replacing it: what it held is among them), each with the catalog's id
        of its event when its start was stored."""
        if self._waiting is None:
            log.error("%d event updates were not stored: the catalog did not answer before the stop", len(updates))
            return
        lines = [json.dumps({"kind": u.kind, "id": self._open.get(_key(u.event)), **dataclasses.asdict(u.event)})
                 for u in updates]
        partial = self._waiting.with_name(f".{self._waiting.name}.tmp")
        try:
            partial.write_text("".join(line + "\n" for line in lines))
            fsync_path(partial)
            partial.replace(self._waiting)
            fsync_path(self._waiting.parent)
        except OSError as exc:  # a full disk: nothing more can be done for them
            log.error("%d event updates were not stored: the catalog did not answer before the stop, and %s "
                      "could not be written (%s)", len(lines), self._waiting, exc)
            return
        log.warning("%d event updates wait for the catalog in %s: they are stored at the next start", len(lines),
                    self._waiting)

    def _read_waiting(self) -> list[EventUpdate] | None:
        """What waited for the catalog at the last stop (None: nothing did), the ids known then restored; a line
        that cannot be read is logged and left out."""
        if self._waiting is None or not self._waiting.exists():
            return None
        try:
            text = self._waiting.read_text()
        except (OSError, UnicodeError) as exc:  # moved aside, or every start would fail on it
            aside = self._waiting.with_name(f"{self._waiting.name}.unreadable")
            log.error("%s cannot be read (%s): moved to %s, its updates are not stored", self._waiting, exc, aside)
            with suppress(OSError):
                self._waiting.replace(aside)
            return None
        updates = []
        for number, line in enumerate(text.splitlines(), 1):
            try:
                update, event_id = _update_from(json.loads(line))
            except (ValueError, TypeError, KeyError) as exc:
                log.error("%s line %d: not an event update (%s); left out", self._waiting, number, exc)
                continue
            if event_id is not None:
                self._open[_key(update.event)] = event_id
            updates.append(update)
        log.info("%d event updates that waited for the catalog at the last stop go first", len(updates))
        return updates


def _key(event: DetectedEvent) -> tuple[str, str, float]:
    return event.camera, event.type, event.start


def _update_from(entry: dict[str, Any]) -> tuple[EventUpdate, int | None]:
    """An update as `_keep_waiting` wrote it, and its event's catalog id (None when its start was not stored)."""
    fields = {field.name for field in dataclasses.fields(DetectedEvent)}
    values = {name: entry[name] for name in fields}
    values["boxes"] = tuple(tuple(float(v) for v in box) for box in values["boxes"])
    event_id = entry["id"]
    if event_id is not None and not isinstance(event_id, int):
        raise TypeError(f"id {event_id!r}")
    if entry["kind"] not in get_args(UpdateKind):
        raise ValueError(f"kind {entry['kind']!r}")
    return EventUpdate(entry["kind"], DetectedEvent(**values)), event_id
