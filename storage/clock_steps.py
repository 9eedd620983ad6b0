"""Forward steps of the station's clock, and the age they give back to what was stamped before them.

Retention judges age on the station's clock. A station that boots with its clock in the past (a flat CMOS battery,
no network yet) and is then set right, by NTP or by hand, stamped everything before the step that much too early:
at the next pass the age limit took all of it. A step noticed while the station runs (`storage/clock_watch.py`)
is kept as the old clock's reading and the new one's at that moment. A stamp up to the old reading was made before
the step, and its real time is the stamp plus the step (plus every later step's). Stamps after a forward step are
all above the old reading, so the stamp alone says which side of a step a recording is on: pieces of the stamp axis,
each shifted by its own amount. A step back cannot be told apart that way (the stamps after it overlap those
before); what was stamped ahead is then kept longer by the step's length, and the byte quota and free-space floor
still hold. See design/time.md.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass


@dataclass(frozen=True)
class ClockStep:
    before_ms: int  # what the old clock read when the step was noticed: stamps up to it predate the step
    after_ms: int  # what the new clock read at that moment

    @property
    def shift_ms(self) -> int:
        return self.after_ms - self.before_ms


@dataclass(frozen=True)
class Piece:
    """The stamps above `after_ms` (None: from the first) and up to `until_ms` (None: no end), whose real time is
    the stamp plus `shift_ms`."""

    after_ms: int | None
    until_ms: int | None
    shift_ms: int


class ClockSteps:
    def __init__(self, steps: Iterable[ClockStep] = ()) -> None:
        self.steps = tuple(sorted(steps, key=lambda step: step.before_ms))

    def real_ms(self, stamp_ms: int) -> int:
        """A stamp on the clock as it reads now."""
        return stamp_ms + sum(step.shift_ms for step in self.steps if stamp_ms <= step.before_ms)

    def pieces(self) -> list[Piece]:
        """The stamp axis cut at every step, oldest piece first."""
        bounds: list[int | None] = [None, *(step.before_ms for step in self.steps), None]
        shifts = [sum(step.shift_ms for step in self.steps[i:]) for i in range(len(self.steps) + 1)]
        return [Piece(bounds[i], bounds[i + 1], shifts[i]) for i in range(len(shifts))]

    def older_than(self, real_ms: int, *, judged_ms: int | None = None) -> list[Piece]:
        """The stamps whose real time is at most `real_ms` (and, with `judged_ms`, above it), piece by piece."""
        found = []
        for piece in self.pieces():
            bound = real_ms - piece.shift_ms
            until = bound if piece.until_ms is None else min(piece.until_ms, bound)
            after = piece.after_ms
            if judged_ms is not None:
                judged = judged_ms - piece.shift_ms
                after = judged if after is None else max(after, judged)
            if after is None or after < until:
                found.append(Piece(after, until, piece.shift_ms))
        return found
