"""Times on a clock that never goes back, from the station's clock, which NTP may step back (`design/time.md`).

The bank's timers and durations (a camera's settle and upkeep, video loss) are counted
on such a clock; what is reported keeps the station's times. A time earlier than the last lands on the last:
the clock is shifted forward by what the step took away, and goes on from there.
"""

from __future__ import annotations

import math
from typing import TypeVar

import numpy as np

Times = TypeVar("Times", float, np.ndarray)


def steadied(wall: Times, shift: Times, last: Times) -> tuple[Times, Times]:
    """`wall` times plus their clocks' `shift`, each at least its clock's `last` time (-inf: none yet): the steady
    times and the shifts, grown where the wall time stepped back (scalars, or arrays of one clock each)."""
    grown = shift + np.maximum(last - (wall + shift), 0.0)
    return wall + grown, grown


class SteadyClock:
    """One such clock: call it with each wall time, in order."""

    def __init__(self) -> None:
        self._shift, self._last = 0.0, -math.inf

    def __call__(self, wall: float) -> float:
        steady, shift = steadied(wall, self._shift, self._last)
        self._last, self._shift = float(steady), float(shift)
        return self._last
