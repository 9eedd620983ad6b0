"""Detection's results go to the catalog, the snapshot folder and then to whoever follows the events (the
event bus, MQTT, webhooks) from a thread of their own: a slow database, or a recorder slow to hand over a
snapshot, never holds up the next tick.

While the catalog is away (a post's link to the district's PostgreSQL) the updates wait and are tried again,
kept in a file in the data folder (`nvr.event_waiting`) as they come: written as the first try fails, added to every
DRAIN_SECONDS between tries (a try itself can take up to the connection timeout, 10 s, while what is handed over
meanwhile waits in memory), so that a station that stops or is killed during the outage stores them, in order,
at its next start, without snapshots (the picture then is not the event's), and ends the events they leave open.
The file is removed once all it holds is stored. Storing an update again is harmless (each line carries its
event's catalog id, and a start stored while the file is kept adds a line with that id), so a station killed
between storing them and removing the file does it again at its start (and hands them on again).
"""

from __future__ import annotations

import logging
import math
import queue
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy.exc import DataError, IntegrityError, SQLAlchemyError

from detect.events import Event as DetectedEvent
from detect.events import EventUpdate
from nvr.event_counts import EventCounts
from nvr.event_waiting import EventKey, WaitingFile, event_key
from storage.catalog_away import RETRY_FIRST_SECONDS, RETRY_MAX_SECONDS, CatalogAway
from storage.events import Event, EventStore
from storage.index import CONNECT_TIMEOUT_SECONDS

log = logging.getLogger(__name__)
MAX_WAITING = 10_000  # ticks' worth of updates held while the database is slow or away
NO_PICTURE = frozenset({"video_loss", "camera_offline"})  # events about a picture that is not there
DRAIN_SECONDS = 0.5  # while the catalog is away, what detection hands over is added to the file this often
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
        # where what waits for the catalog is kept (during an outage, at a stop)
        self._waiting = WaitingFile(waiting) if waiting is not None else None
        self._replaying = False  # the first batch is what waited at the last stop
        self._kept = False  # the waiting file holds the updates not stored yet (see _keep) ...
        self._unkept = False  # ... or could not be written in this outage (not tried again until it ends)
        self._ended = False  # the end (stop's None) was taken from the queue with the updates kept
        self._open: dict[EventKey, int] = {}  # catalog ids of the events whose starts were stored
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
                assert self._waiting is not None
                try:
                    self._waiting.remove()
                except OSError as exc:
                    log.error("%s could not be removed (%s): its updates will be stored again at the next start",
                              self._waiting.path, exc)

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
                    key = event_key(update.event)
                    with self._adding("an event's id") as file:
                        file.append_opened(key, self._open[key])
            pending.popleft()
            return stored

    def _record(self, update: EventUpdate) -> Event | None:
        event = update.event
        key = event_key(event)
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
            with self._adding(f"{len(new)} event updates") as file:
                file.append(new, self._open)

    @contextmanager
    def _adding(self, what: str) -> Iterator[WaitingFile]:
        """The waiting file, for `what` to be added to it; failing (a full disk), `what` still waits in memory and the
        file is written whole next time (a line torn or missing would be read back wrong)."""
        assert self._waiting is not None
        try:
            yield self._waiting
        except OSError as exc:
            self._kept = False
            log.error("%s could not be added to %s (%s): a station killed now loses them", what, self._waiting.path,
                      exc)

    def _keep_waiting(self, updates: list[EventUpdate]) -> None:
        """At a stop during an outage: `updates` to the waiting file (replacing it: what it held is among them)."""
        if self._waiting is None:
            log.error("%d event updates were not stored: the catalog did not answer before the stop", len(updates))
            return
        if self._write_waiting(updates):
            log.warning("%d event updates wait for the catalog in %s: they are stored at the next start",
                        len(updates), self._waiting.path)

    def _write_waiting(self, updates: list[EventUpdate]) -> bool:
        """The waiting file made to hold `updates` alone; False when it could not be written."""
        assert self._waiting is not None
        try:
            self._waiting.write(updates, self._open)
        except OSError as exc:  # a full disk: nothing more can be done for them
            log.error("%d event updates wait for the catalog, and %s could not be written (%s): a station stopped "
                      "now loses them", len(updates), self._waiting.path, exc)
            return False
        return True

    def _read_waiting(self) -> list[EventUpdate] | None:
        """What waited for the catalog at the last stop or kill (None: nothing did), the ids known then restored."""
        found = self._waiting.read() if self._waiting is not None else None
        if found is None:
            return None
        updates, ids = found
        self._open.update(ids)
        log.info("%d event updates that waited for the catalog at the last stop go first", len(updates))
        return updates
