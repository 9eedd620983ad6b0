"""What was recorded in a window: merged ranges, the gaps between them with their reasons, and keyframes."""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from itertools import pairwise

from storage.clock_steps import ClockStep
from storage.index import JOIN_TOLERANCE_MS, Outage, Segment

UNKNOWN_GAP = "not recorded (the service was not running)"
ATTACHED_MS = 60_000  # see _explained
# stamps jump from a forward step's old reading to its new one: no time passed there (an audit: such a gap read as
# the service not running)
CLOCK_STEP_GAP = "no time passed here: the station's clock was set forward"


@dataclass(frozen=True)
class Span:
    start_ms: int
    end_ms: int
    reason: str | None = None


def recorded_ranges(spans: Iterable[tuple[int, int]], start_ms: int, end_ms: int) -> list[Span]:
    """Merge (start, end) spans of segments into continuous ranges clipped to the window."""
    ranges: list[Span] = []
    for seg_start, seg_end in sorted(spans):
        lo, hi = max(seg_start, start_ms), min(seg_end, end_ms)
        if hi <= lo:
            continue
        if ranges and lo - ranges[-1].end_ms <= JOIN_TOLERANCE_MS:
            ranges[-1] = Span(ranges[-1].start_ms, max(ranges[-1].end_ms, hi))
        else:
            ranges.append(Span(lo, hi))
    return ranges


def gaps(ranges: list[Span], outages: list[Outage], start_ms: int, end_ms: int,
         steps: Sequence[ClockStep] = ()) -> list[Span]:
    """The parts of [start_ms, end_ms) not covered by `ranges`, each with the outage reasons that explain it; where
    the stamps jumped at a forward step of the station's clock (`steps`), that part is a gap of its own, of no
    time (CLOCK_STEP_GAP)."""
    found: list[Span] = []
    cursor = start_ms
    for span in [*ranges, Span(end_ms, end_ms)]:
        if span.start_ms - cursor > JOIN_TOLERANCE_MS:
            for lo, hi, jump in _cut(cursor, span.start_ms, steps):
                found += [Span(lo, hi, CLOCK_STEP_GAP)] if jump else _explained(lo, hi, outages)
        cursor = max(cursor, span.end_ms)
    return found


def _cut(start_ms: int, end_ms: int, steps: Sequence[ClockStep]) -> list[tuple[int, int, bool]]:
    """[start_ms, end_ms) cut where steps' jumps begin and end: (start, end, within a jump); a part outside the
    jumps of at most JOIN_TOLERANCE_MS (a segment closed a moment before the step) goes with the jump beside it."""
    jumps = sorted((max(start_ms, step.before_ms), min(end_ms, step.after_ms)) for step in steps
                   if step.before_ms < end_ms and step.after_ms > start_ms)
    parts: list[tuple[int, int, bool]] = []
    cursor = start_ms
    for lo, hi in jumps:
        if hi <= cursor:
            continue
        if lo - cursor > JOIN_TOLERANCE_MS:
            parts.append((cursor, lo, False))
        parts.append((parts[-1][1] if parts else start_ms, hi, True))
        cursor = hi
    if not parts or end_ms - cursor > JOIN_TOLERANCE_MS:
        parts.append((cursor, end_ms, False))
    else:
        parts[-1] = (parts[-1][0], end_ms, True)
    return parts


def _explained(start_ms: int, end_ms: int, outages: list[Outage]) -> list[Span]:
    """[start_ms, end_ms) cut where outages begin and end, each part with the reasons of the outages over it: an
    outage of the last hour explains the last hour of a day's gap, not the day (an audit found a camera's whole day
    labelled with the refusal that began at its last hour). A part no outage covers, at most ATTACHED_MS long and beside
    one that is covered, takes that one's reasons (the one before it, if any): a loss is noticed seconds after the
    last picture (a read timeout), and pictures come back seconds after an outage ends. Any other part is
    UNKNOWN_GAP."""
    over = [o for o in outages if o.start_ms < end_ms and (o.end_ms is None or o.end_ms > start_ms)]
    cuts = sorted({start_ms, end_ms, *(ms for o in over for ms in (o.start_ms, o.end_ms)
                                       if ms is not None and start_ms < ms < end_ms)})
    reasons = ["; ".join(dict.fromkeys(o.reason for o in over
                                       if o.start_ms < hi and (o.end_ms is None or o.end_ms > lo)))
               for lo, hi in pairwise(cuts)]
    for k, (lo, hi) in enumerate(pairwise(cuts)):
        beside = [reasons[j] for j in (k - 1, k + 1) if 0 <= j < len(reasons) and reasons[j]]
        if not reasons[k] and hi - lo <= ATTACHED_MS and beside:
            reasons[k] = beside[0]
    parts: list[Span] = []
    for (lo, hi), reason in zip(pairwise(cuts), (reason or UNKNOWN_GAP for reason in reasons), strict=True):
        if parts and parts[-1].reason == reason:
            parts[-1] = Span(parts[-1].start_ms, hi, reason)
        else:
            parts.append(Span(lo, hi, reason))
    return parts


def keyframe_times(segments: Iterable[Segment], start_ms: int, end_ms: int) -> list[int]:
    """Wall times of the keyframes in [start_ms, end_ms), led by the one at or before start_ms: the pictures a
    player can show without decoding others."""
    times = sorted({segment.start_ms + offset for segment in segments for offset in segment.keyframes_ms})
    return times[max(bisect_right(times, start_ms) - 1, 0):bisect_left(times, end_ms)]
