"""Live detection: a thread takes the work pictures the recorder processes have put in shared memory,
ticks the pipeline, and turns event updates into index rows, snapshots and messages on the event bus
(the WebSocket and the station screen)."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from pathlib import Path

from detect.events import Event as DetectedEvent
from detect.events import EventUpdate
from nvr.detection import DetectionPipeline
from nvr.event_bus import EventBus
from nvr.runtime.work_pictures import WorkPicture
from storage.events import Event, EventStore

log = logging.getLogger(__name__)
# at most one tick this often, so that the frames of many cameras are processed together: a tick has a
# fixed cost of about 0.5 ms whatever it holds, and 50 ms is still less than a frame interval at 15 fps
# (a camera's newer frame would replace an older one still waiting)
TICK_SECONDS = 0.05
SILENCE_SECONDS = 1.0  # with no frames coming, look for cameras that went silent this often
Pictures = Callable[[], dict[str, WorkPicture]]  # the pictures written since the last call, by camera
Snapshots = Callable[[str], bytes | None]  # a camera's newest picture as a JPEG


def _ms(t: float) -> int:
    return round(t * 1000)


class LiveDetection:
    def __init__(self, pipeline: DetectionPipeline, events: EventStore, bus: EventBus, snapshots_dir: Path,
                 pictures: Pictures, snapshots: Snapshots) -> None:
        self.pipeline = pipeline
        self._pictures = pictures
        self._snapshots = snapshots
        self._events = events
        self._bus = bus
        self._snapshots_dir = snapshots_dir
        self._open: dict[tuple[str, str, float], int] = {}  # (camera, type, start) -> event id
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="detection", daemon=True)

    def start(self) -> None:
        self._snapshots_dir.mkdir(parents=True, exist_ok=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
        self._record_all(self.pipeline.close(time.time()))

    def _run(self) -> None:
        """Tick when pictures have come, or every SILENCE_SECONDS to notice cameras that went silent (not
        more: 1.4 % of a core was spent ticking an empty bank)."""
        last_tick = 0.0
        while not self._stop.wait(TICK_SECONDS):
            try:
                arrived = self._pictures()
                for camera, picture in arrived.items():
                    chroma = (picture.chroma[0], picture.chroma[1]) if picture.chroma is not None else None
                    self.pipeline.submit(camera, picture.luma, chroma, picture.t)
                if not arrived and time.monotonic() - last_tick < SILENCE_SECONDS:
                    continue
                last_tick = time.monotonic()
                self._record_all(self.pipeline.tick(time.time()))
            except Exception:  # a bug or a full disk must not end detection for every camera
                log.exception("detection tick failed; going on")

    def _record_all(self, updates: list[EventUpdate]) -> None:
        for update in updates:
            try:
                stored = self._record(update)
            except Exception:
                log.exception("%s: could not store a %s event", update.event.camera, update.event.type)
                continue
            if stored is not None:
                self._bus.publish(stored)

    def _record(self, update: EventUpdate) -> Event | None:
        event = update.event
        key = (event.camera, event.type, event.start)
        if update.kind == "started":
            stored = self._events.open(event.camera, event.type, _ms(event.start), event.score, event.boxes)
            self._open[key] = stored.id
            return self._events.update(stored.id, snapshot=self._snapshot(event, stored.id))
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
        if event.type == "video_loss":
            return None
        image = self._snapshots(event.camera)
        if image is None:
            return None
        name = f"{event_id}.jpg"
        partial = self._snapshots_dir / f".{name}.tmp"
        partial.write_bytes(image)
        partial.replace(self._snapshots_dir / name)
        return name
