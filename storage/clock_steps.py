"""Forward steps of the station's clock, and the age they give back to what was stamped before them.

Retention judges age on the station's clock. A station that boots with its clock in the past (a flat CMOS battery,
no network yet) and is then set right, by NTP or by hand, stamped everything before the step that much too early:
at the next pass the age limit took all of it. A step noticed while the station runs (`storage/clock_watch.py`) is
kept as the old clock's reading and the new one's at that moment, and the old clock's reading when its boot began.
A stamp between the two old readings was made in that boot before the step: its real time is the stamp plus the step
(plus every later step's of that boot). Stamps after a forward step are all above the old reading, and an earlier
boot's are below the boot's beginning (a clock starts at the last shutdown's time at the earliest, as
systemd-timesyncd sets it; or far in the past), so the stamp alone says which side of a step a recording is on:
pieces of the stamp axis, each shifted by its own amount. A step back cannot be told apart that way (the stamps after
it overlap those before); what was stamped ahead is then kept longer by the step's length, and the byte quota and
free-space floor still hold. See design/time.md.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import ColumnElement, false, or_, select, true
from sqlalchemy.orm import InstrumentedAttribute, Session

from storage.models import ClockStepRow


@dataclass(frozen=True)
class ClockStep:
    before_ms: int  # what the old clock read when the step was noticed: stamps up to it predate the step
    after_ms: int  # what the new clock read at that moment
    since_ms: int  # what the old clock read when its boot began: stamps up to it are older boots'

    @property
    def shift_ms(self) -> int:
        return self.after_ms - self.before_ms

    def covers(self, stamp_ms: int) -> bool:
        """Whether a stamp was made in the step's boot before the step."""
        return self.since_ms < stamp_ms <= self.before_ms

    def overlaps(self, start_ms: int, end_ms: int) -> bool:
        """Whether a recording from `start_ms` to `end_ms` holds anything the step covers."""
        return start_ms <= self.before_ms and end_ms > self.since_ms


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
        return stamp_ms + sum(step.shift_ms for step in self.steps if step.covers(stamp_ms))

    def pieces(self) -> list[Piece]:
        """The stamp axis cut where a step's span begins or ends, oldest piece first. Within a piece every stamp
        is covered by the same steps: those covering its upper end."""
        cuts = {step.before_ms for step in self.steps} | {step.since_ms for step in self.steps}
        bounds: list[int | None] = [None, *sorted(cuts), None]
        return [Piece(after, until, 0 if until is None else self.real_ms(until) - until)
                for after, until in itertools.pairwise(bounds)]

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


def stamped_in(stamp: ColumnElement[int] | InstrumentedAttribute[int], pieces: list[Piece]) -> ColumnElement[bool]:
    """SQL: whether `stamp` lies in one of `pieces` (above `after_ms`, up to `until_ms`)."""
    return or_(false(), *((true() if piece.after_ms is None else stamp > piece.after_ms)
                          & (true() if piece.until_ms is None else stamp <= piece.until_ms) for piece in pieces))


def stored_steps(session: Session, station: str) -> ClockSteps:
    """A station's clock steps as its catalog keeps them (storage/clock_watch.py writes them)."""
    found = session.scalars(select(ClockStepRow).where(ClockStepRow.station == station)).all()
    return ClockSteps(ClockStep(row.before_ms, row.after_ms, row.since_ms) for row in found)
