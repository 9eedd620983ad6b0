"""Noticing a forward step of the station's clock: two readings of one boot whose wall clocks moved apart by more
than the time since boot did. The last reading and every step are kept in the catalog, so a restart of the service
(not of the machine) sees a step made while it was down too. A step while the machine was off cannot be seen:
nothing on it counts time then. See storage/clock_steps.py and design/time.md.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import delete, func, select

from storage.clock_steps import ClockSteps, stored_steps
from storage.index import RecordingIndex
from storage.models import ClockReadingRow, ClockStepRow, EventRow, SegmentRow

log = logging.getLogger(__name__)
BOOT_ID = Path("/proc/sys/kernel/random/boot_id")
MIN_STEP_MS = 60_000  # smaller steps change no recording's fate by much; NTP slews anything under 0.128 s anyway


@dataclass(frozen=True)
class ClockReading:
    boot: str
    since_boot_ms: int  # CLOCK_BOOTTIME: counts on through a suspend and never steps
    wall_ms: int


def read_clock() -> ClockReading:
    return ClockReading(BOOT_ID.read_text().strip(), round(time.clock_gettime(time.CLOCK_BOOTTIME) * 1000),
                        round(time.time() * 1000))


class ClockWatch:
    def __init__(self, index: RecordingIndex, read: Callable[[], ClockReading] = read_clock) -> None:
        self._index = index
        self._read = read

    def check(self) -> ClockSteps:
        """Read the clock, keep a forward step since the last reading, and return the steps that still matter
        (those with something stamped before them)."""
        reading = self._read()
        station = self._index.station
        with self._index.session() as session, session.begin():
            last = session.get(ClockReadingRow, station)
            if last is None or last.boot != reading.boot:  # the boot's first reading: nothing to compare it with
                boot_wall = reading.wall_ms - reading.since_boot_ms
                if last is None:
                    last = ClockReadingRow(station=station, boot=reading.boot, boot_wall_ms=boot_wall)
                    session.add(last)
                last.boot, last.boot_wall_ms = reading.boot, boot_wall
            else:
                old_clock = last.wall_ms + (reading.since_boot_ms - last.since_boot_ms)
                if reading.wall_ms - old_clock >= MIN_STEP_MS:
                    session.add(ClockStepRow(station=station, since_ms=last.boot_wall_ms, before_ms=old_clock,
                                             after_ms=reading.wall_ms))
                    shift_s = (reading.wall_ms - old_clock) / 1000
                    log.warning("the station's clock stepped forward by %.0f s (%.2f days): what was stamped "
                                "before the step is kept by its real age", shift_s, shift_s / 86400)
            last.since_boot_ms, last.wall_ms = reading.since_boot_ms, reading.wall_ms
            oldest = [session.scalar(select(func.min(SegmentRow.start_ms)).where(SegmentRow.station == station)),
                      session.scalar(select(func.min(EventRow.start_ms)).where(EventRow.station == station))]
            first = min((stamp for stamp in oldest if stamp is not None), default=None)
            stale = ClockStepRow.station == station
            if first is not None:
                stale &= ClockStepRow.before_ms < first
            session.execute(delete(ClockStepRow).where(stale))
            return stored_steps(session, station)
