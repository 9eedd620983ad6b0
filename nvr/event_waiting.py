"""The event writer's waiting file (WAITING_FILE in the data folder): detection's updates that the catalog has not
taken yet, a JSON line each with its event's catalog id when its start was stored, and OPENED lines for starts stored
after the lines that follow them were written (`nvr.event_writer` says when it is written and read). It is written
whole (a new file put in its place) or added to; read back at a start, it gives the updates in order with the ids
known, and ends for the events it leaves open.
"""

from __future__ import annotations

import dataclasses
import json
import logging
from collections.abc import Iterable, Mapping
from contextlib import suppress
from pathlib import Path
from typing import Any, get_args

from detect.events import Event, EventUpdate, UpdateKind
from storage.segment_file import fsync_path

log = logging.getLogger(__name__)
WAITING_FILE = "events-waiting.jsonl"
OPENED = "opened"  # a line of the file: the catalog id of an event whose start was stored after it was written
EventKey = tuple[str, str, float]  # (camera, type, start): an event, in the writer and in the file
EventIds = Mapping[EventKey, int]  # the catalog ids of the events whose starts were stored


def event_key(event: Event) -> EventKey:
    return event.camera, event.type, event.start


class WaitingFile:
    def __init__(self, path: Path) -> None:
        self.path = path

    def write(self, updates: Iterable[EventUpdate], ids: EventIds) -> None:
        """The file made to hold `updates` alone (OSError when it cannot be: a new file put in its place, or none)."""
        partial = self.path.with_name(f".{self.path.name}.tmp")
        try:
            partial.write_text(_lines(updates, ids))
            fsync_path(partial)
            partial.replace(self.path)
            fsync_path(self.path.parent)
        except OSError:
            with suppress(OSError):
                partial.unlink(missing_ok=True)
            raise

    def append(self, updates: Iterable[EventUpdate], ids: EventIds) -> None:
        """`updates` added (OSError when they cannot be: the file may then end in part of a line)."""
        self._add(_lines(updates, ids))

    def append_opened(self, key: EventKey, event_id: int) -> None:
        """The catalog id of an event whose start was stored after the lines that follow it were written."""
        camera, type_, start = key
        self._add(json.dumps({"kind": OPENED, "id": event_id, "camera": camera, "type": type_, "start": start}) + "\n")

    def remove(self) -> None:
        self.path.unlink(missing_ok=True)

    def read(self) -> tuple[list[EventUpdate], dict[EventKey, int]] | None:
        """The updates the file holds (None: there is no file), ends for the events it leaves open, and the catalog
        ids it knows. A line that cannot be read is logged and left out; a file that cannot be read at all is moved
        aside (every start would fail on it) and counts as none."""
        if not self.path.exists():
            return None
        try:
            text = self.path.read_text()
            written = self.path.stat().st_mtime
        except (OSError, UnicodeError) as exc:
            aside = self.path.with_name(f"{self.path.name}.unreadable")
            log.error("%s cannot be read (%s): moved to %s, its updates are not stored", self.path, exc, aside)
            with suppress(OSError):
                self.path.replace(aside)
            return None
        updates: list[EventUpdate] = []
        ids: dict[EventKey, int] = {}
        for number, line in enumerate(text.splitlines(), 1):
            try:
                entry = json.loads(line)
                if entry["kind"] == OPENED:
                    ids[(entry["camera"], entry["type"], float(entry["start"]))] = _event_id(entry)
                    continue
                update, event_id = _update_from(entry)
            except (ValueError, TypeError, KeyError) as exc:
                log.error("%s line %d: not an event update (%s); left out", self.path, number, exc)
                continue
            if event_id is not None:
                ids[event_key(update.event)] = event_id
            updates.append(update)
        return updates + _left_open(updates, written), ids

    def _add(self, text: str) -> None:
        with self.path.open("a") as file:
            file.write(text)
        fsync_path(self.path)


def _lines(updates: Iterable[EventUpdate], ids: EventIds) -> str:
    return "".join(json.dumps({"kind": update.kind, "id": ids.get(event_key(update.event)),
                               **dataclasses.asdict(update.event)}) + "\n" for update in updates)


def _left_open(updates: list[EventUpdate], written: float) -> list[EventUpdate]:
    """Ends for the events `updates` leave open: a station killed during an outage never sent them, and the next
    one's detection knows nothing of those events (its start closed the ones open in the catalog before the replay).
    They end when the file was last `written` (seconds at most before the kill)."""
    last: dict[EventKey, EventUpdate] = {}
    for update in updates:
        last[event_key(update.event)] = update
    return [EventUpdate("ended", dataclasses.replace(update.event, end=max(written, update.event.start),
                                                     clip_end=max(written, update.event.start)))
            for update in last.values() if update.kind != "ended"]


def _update_from(entry: dict[str, Any]) -> tuple[EventUpdate, int | None]:
    """An update as `_lines` wrote it, and its event's catalog id (None when its start was not stored)."""
    fields = {field.name for field in dataclasses.fields(Event)}
    values = {name: entry[name] for name in fields}
    values["boxes"] = tuple(tuple(float(v) for v in box) for box in values["boxes"])
    if entry["kind"] not in get_args(UpdateKind):
        raise ValueError(f"kind {entry['kind']!r}")
    return EventUpdate(entry["kind"], Event(**values)), None if entry["id"] is None else _event_id(entry)


def _event_id(entry: dict[str, Any]) -> int:
    event_id = entry["id"]
    if not isinstance(event_id, int):
        raise TypeError(f"id {event_id!r}")
    return event_id
