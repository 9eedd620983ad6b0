"""Detection's results go to the catalog, the snapshot folder and then to whoever follows the events (the
event bus, MQTT, webhooks) from a thread of their own: a slow database, or a recorder slow to hand over a
snapshot, never holds up the next tick.

While the catalog is away (a post's link to the district's PostgreSQL) the updates wait and are tried again,
kept in a file in the data folder (WAITING_FILE) as they come: written as the first try fails, added to every
DRAIN_SECONDS between tries (a try itself can take up to the connection timeout, 10 s, while what is handed over
meanwhile waits in memory), so that a station that stops or is killed during the outage stores them, in order,
at its next start, without snapshots (the picture then is not the event's), and ends the events they leave open.
The file is removed once all it holds is stored. Storing an update again is harmless (each line carries its
event's catalog id, and a start stored while the file is kept adds a line with that id), so a station killed
between storing them and removing the file does it again at its start (and hands them on again).
"""

from __future__ import annotations

import dataclasses
import json
import logging
import math
import queue
import threading
import time
from collections import deque
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
WAITING_FILE = "events-waiting.jsonl"  # in the data folder: updates the catalog has not taken yet
DRAIN_SECONDS = 0.5  # while the catalog is away, what detection hands over is added to the file this often
OPENED = "opened"  # a line of the file: the catalog id of an event whose start was stored after it was written
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
        self._waiting = waiting  # where what waits for the catalog is kept (during an outage, at a stop)
        self._replaying = False  # the first batch is what waited at the last stop
        self._kept = False  # the waiting file holds the updates not stored yet (see _keep) ...
        self._unkept = False  # ... or could not be written in this outage (not tried again until it ends)
        self._ended = False  # the end (stop's None) was taken from the queue with the updates kept
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
            self._replaying = self._kept = True
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
        while not self._ended and (updates := self._next()) is not None:
            pending = deque(updates)  # not stored yet, in order (what waits in the queue joins them during an outage)
            while pending:
                try:
                    stored = self._store_first(pending)
                except _Stopped:
                    self._keep_waiting(list(pending) + self._rest_of_queue())
                    return
                if stored is not None:
                    self._publish(stored)
            self._replaying = self._unkept = False
            if self._kept:  # all it held is stored
                self._kept = False
                try:
                    self._waiting.unlink(missing_ok=True)  # type: ignore[union-attr]
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

    def _store_first(self, pending: deque[EventUpdate]) -> Event | None:
        """Store the first of `pending` and take it off. A catalog that is away (a post's link to the district's
        PostgreSQL) is waited for, the updates kept (`_keep`) and tried again, so the events of an outage are
        stored, late, rather than lost; a row the database refuses for good is logged and dropped."""
        update = pending[0]
        wait = RETRY_FIRST_SECONDS
        while True:
            try:
                stored = self._record(update)
            except (IntegrityError, DataError) as exc:
                log.error("%s: the database refused a %s event: %s", update.event.camera, update.event.type,
                          exc.orig)
                stored = None
            except SQLAlchemyError as exc:
                self._away.failed(exc)
                retry = time.monotonic() + wait
                while (left := retry - time.monotonic()) > 0:
                    self._keep(pending)
                    if self._stopping.wait(min(left, DRAIN_SECONDS)):
                        raise _Stopped from None
                wait = min(wait * 2, RETRY_MAX_SECONDS)
                continue
            except Exception:
                log.exception("%s: could not store a %s event", update.event.camera, update.event.type)
                stored = None
            else:
                self._away.answered()
                if update.kind == "started" and self._kept:  # lines after it in the file were written without its id
                    self._append([{"kind": OPENED, "id": self._open[_key(update.event)], **_key_fields(update)}])
            pending.popleft()
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

    def _rest_of_queue(self, room: float = math.inf) -> list[EventUpdate]:
        """What waits in the queue (as long as fewer than `room` updates are taken)."""
        rest: list[EventUpdate] = []
        while len(rest) < room:
            try:
                updates = self._queue.get_nowait()
            except queue.Empty:
                break
            if updates is None:
                self._ended = True
            rest += updates or []
        return rest

    def _keep(self, pending: deque[EventUpdate]) -> None:
        """During an outage: what waits in the queue joins `pending`, and the waiting file holds all of `pending`
        (written whole the first time, added to after). At most MAX_WAITING updates are taken: beyond them the queue
        fills and what detection hands over is dropped (logged), as memory is bounded."""
        new = self._rest_of_queue(MAX_WAITING - len(pending))
        pending.extend(new)
        if self._waiting is None or self._unkept:
            return
        if not self._kept:
            self._kept = self._write_waiting(list(pending))
            self._unkept = not self._kept
        elif new:
            self._append([self._line(update) for update in new])

    def _line(self, update: EventUpdate) -> dict[str, Any]:
        return {"kind": update.kind, "id": self._open.get(_key(update.event)), **dataclasses.asdict(update.event)}

    def _append(self, lines: list[dict[str, Any]]) -> None:
        assert self._waiting is not None
        try:
            with self._waiting.open("a") as file:
                file.write("".join(json.dumps(line) + "\n" for line in lines))
            fsync_path(self._waiting)
        except OSError as exc:  # a full disk: they still wait in memory, and the file is written whole next time
            self._kept = False  # (a line torn or missing would be read back wrong)
            log.error("%d event updates could not be added to %s (%s): a station killed now loses them",
                      len(lines), self._waiting, exc)

    def _keep_waiting(self, updates: list[EventUpdate]) -> None:
        """At a stop during an outage: `updates` to the waiting file (replacing it: what it held is among them)."""
        if self._waiting is None:
            log.error("%d event updates were not stored: the catalog did not answer before the stop", len(updates))
            return
        if self._write_waiting(updates):
            log.warning("%d event updates wait for the catalog in %s: they are stored at the next start",
                        len(updates), self._waiting)

    def _write_waiting(self, updates: list[EventUpdate]) -> bool:
        """The waiting file made to hold `updates` alone, each with the catalog's id of its event when its start was
        stored; False when it could not be written."""
        assert self._waiting is not None
        partial = self._waiting.with_name(f".{self._waiting.name}.tmp")
        try:
            partial.write_text("".join(json.dumps(self._line(update)) + "\n" for update in updates))
            fsync_path(partial)
            partial.replace(self._waiting)
            fsync_path(self._waiting.parent)
        except OSError as exc:  # a full disk: nothing more can be done for them
            with suppress(OSError):
                partial.unlink(missing_ok=True)
            log.error("%d event updates wait for the catalog, and %s could not be written (%s): a station stopped "
                      "now loses them", len(updates), self._waiting, exc)
            return False
        return True

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
        updates: list[EventUpdate] = []
        for number, line in enumerate(text.splitlines(), 1):
            try:
                entry = json.loads(line)
                if entry["kind"] == OPENED:
                    self._open[(entry["camera"], entry["type"], float(entry["start"]))] = _event_id(entry)
                    continue
                update, event_id = _update_from(entry)
            except (ValueError, TypeError, KeyError) as exc:
                log.error("%s line %d: not an event update (%s); left out", self._waiting, number, exc)
                continue
            if event_id is not None:
                self._open[_key(update.event)] = event_id
            updates.append(update)
        log.info("%d event updates that waited for the catalog at the last stop go first", len(updates))
        return updates + self._left_open(updates)

    def _left_open(self, updates: list[EventUpdate]) -> list[EventUpdate]:
        """Ends for the events the waiting file leaves open: a station killed during an outage never sent them, and
        the next one's detection knows nothing of those events (its start closed the ones open in the catalog
        before this replay). They end when the file was last written (seconds at most before the kill)."""
        assert self._waiting is not None
        try:
            left = self._waiting.stat().st_mtime
        except OSError:
            return []
        last: dict[tuple[str, str, float], EventUpdate] = {}
        for update in updates:
            last[_key(update.event)] = update
        return [EventUpdate("ended", dataclasses.replace(update.event, end=max(left, update.event.start),
                                                         clip_end=max(left, update.event.start)))
                for update in last.values() if update.kind != "ended"]


def _key(event: DetectedEvent) -> tuple[str, str, float]:
    return event.camera, event.type, event.start


def _update_from(entry: dict[str, Any]) -> tuple[EventUpdate, int | None]:
    """An update as `_keep_waiting` wrote it, and its event's catalog id (None when its start was not stored)."""
    fields = {field.name for field in dataclasses.fields(DetectedEvent)}
    values = {name: entry[name] for name in fields}
    values["boxes"] = tuple(tuple(float(v) for v in box) for box in values["boxes"])
    if entry["kind"] not in get_args(UpdateKind):
        raise ValueError(f"kind {entry['kind']!r}")
    return EventUpdate(entry["kind"], DetectedEvent(**values)), None if entry["id"] is None else _event_id(entry)


def _event_id(entry: dict[str, Any]) -> int:
    event_id = entry["id"]
    if not isinstance(event_id, int):
        raise TypeError(f"id {event_id!r}")
    return event_id


def _key_fields(update: EventUpdate) -> dict[str, Any]:
    return {"camera": update.event.camera, "type": update.event.type, "start": update.event.start}
