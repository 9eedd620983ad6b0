"""Checking a camera's own clock (its RTCP sender reports) against the station's.

The station clock is the reference (see design/time.md): the camera's NTP time is measured, shown and
logged, never used to stamp footage. The offset is the camera's time of a picture minus the station's
time of the same picture; it includes the network delay (a few tens of milliseconds), so only an offset
beyond the tolerance means the camera's clock is wrong. Drift shows as an offset that keeps changing.
"""

from __future__ import annotations

from dataclasses import dataclass

HYSTERESIS = 0.9  # back within tolerance only below 90 % of it: an offset hovering at the bound logs once


@dataclass(frozen=True)
class ClockReading:
    offset_seconds: float  # camera minus station
    beyond_tolerance: bool
    changed: bool  # the first reading, or beyond_tolerance differs from the previous one: worth a log line


class ClockCheck:
    def __init__(self, tolerance_seconds: float) -> None:
        self._tolerance = tolerance_seconds
        self._beyond: bool | None = None

    def read(self, camera_wall: float, station_wall: float) -> ClockReading:
        offset = camera_wall - station_wall
        beyond = abs(offset) > self._tolerance * (HYSTERESIS if self._beyond else 1.0)
        changed, self._beyond = beyond != self._beyond, beyond
        return ClockReading(offset, beyond, changed)
