"""Camera health over a window, for the post chief: how much of it each camera was recorded (uptime), its
outages with their reasons, the tampering detection saw, and its last picture; worst first.

Uptime is the share of the window, from the camera's first footage or outage on, not lost to an outage
or an unexplained gap (`storage.timeline`: gaps shorter than 1.5 s are one recording). Footage deleted by
retention counts as not recorded: keep the window within `storage.retain_days`. The jump of the stamps at a
forward step of the station's clock is no time and no outage: it is left out of the window.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from nvr.config import CameraConfig
from storage.clock_steps import stored_steps
from storage.events import EventStore
from storage.index import RecordingIndex
from storage.timeline import CLOCK_STEP_GAP, gaps, recorded_ranges
from storage.usage import oldest_footage

TAMPER_TYPES = ("tamper_covered", "tamper_moved", "tamper_defocus")
MAX_TAMPER_EVENTS = 100_000
MAX_LISTED = 100  # outages and tamper spells shown per camera (the newest); the totals count them all
Spans = Callable[[str, int, int], list[tuple[int, int]]]  # camera, start, end -> recorded (start, end) spans


@dataclass(frozen=True)
class Period:
    start_ms: int
    end_ms: int
    what: str  # an outage's reason, or a tamper event's type

    @property
    def ms(self) -> int:
        return self.end_ms - self.start_ms


@dataclass(frozen=True)
class Live:
    """What the running station knows of a camera now."""

    online: bool
    last_frame_ms: int | None


@dataclass(frozen=True)
class CameraHealth:
    camera: CameraConfig
    observed_ms: int  # the part of the window since the camera's first footage or outage
    outages: tuple[Period, ...]  # oldest first
    tampers: tuple[Period, ...]  # oldest first
    last_picture_ms: int | None
    online: bool | None  # None: not known (`nvr report` reads only the catalog)

    @property
    def down_ms(self) -> int:
        return sum(period.ms for period in self.outages)

    @property
    def tamper_ms(self) -> int:
        return sum(period.ms for period in self.tampers)

    @property
    def uptime_percent(self) -> float | None:
        """None when nothing is known of the camera in the window."""
        return round(100 * (1 - self.down_ms / self.observed_ms), 2) if self.observed_ms > 0 else None


def camera_health(index: RecordingIndex, events: EventStore, cameras: list[CameraConfig], start_ms: int,
                  end_ms: int, *, spans: Spans | None = None,
                  live: Callable[[str], Live | None] = lambda _name: None) -> list[CameraHealth]:
    """Health of `cameras` over [start_ms, end_ms), worst first; `spans` (default: the index's) may add the
    segment being written. Reads the catalog: call it from a worker thread."""
    spans_of = spans or index.spans
    oldest = oldest_footage(index)
    tampered = events.query(cameras=[camera.name for camera in cameras], types=TAMPER_TYPES, start_ms=start_ms,
                            end_ms=end_ms, limit=MAX_TAMPER_EVENTS)
    with index.session() as session:
        steps = stored_steps(session, index.station).steps
    found = []
    for camera in cameras:
        outages = index.outages(camera.name, start_ms, end_ms)
        known = [ms for ms in (oldest.get(camera.name), *(outage.start_ms for outage in outages)) if ms is not None]
        observed_from = max(start_ms, min(known, default=end_ms))
        ranges = recorded_ranges(spans_of(camera.name, start_ms, end_ms), observed_from, end_ms)
        holes = gaps(ranges, outages, observed_from, end_ms, steps) if observed_from < end_ms else []
        jumped = sum(hole.end_ms - hole.start_ms for hole in holes if hole.reason == CLOCK_STEP_GAP)
        holes = [hole for hole in holes if hole.reason != CLOCK_STEP_GAP]
        tampers = [Period(max(event.start_ms, start_ms), min(event.end_ms or end_ms, end_ms), event.type)
                   for event in reversed(tampered) if event.camera == camera.name]
        now = live(camera.name)
        pictures = [ms for ms in (ranges[-1].end_ms if ranges else None, now.last_frame_ms if now else None) if ms]
        found.append(CameraHealth(camera, end_ms - observed_from - jumped,
                                  tuple(Period(hole.start_ms, hole.end_ms, hole.reason or "") for hole in holes),
                                  tuple(tampers), max(pictures, default=None), now.online if now else None))
    return worst_first(found)


def worst_first(health: list[CameraHealth]) -> list[CameraHealth]:
    """Lowest uptime first (nothing known counts as worst), then the longest tampered, then the oldest last
    picture."""
    return sorted(health, key=lambda h: (-1.0 if h.uptime_percent is None else h.uptime_percent, -h.tamper_ms,
                                         h.last_picture_ms or 0, h.camera.name))
