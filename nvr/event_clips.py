"""The footage of an event, as its clip and a case item give it: from a little before it to a little after its end."""

from __future__ import annotations

from storage.events import Event

CLIP_PRE_ROLL_MS = 5_000
CLIP_POST_ROLL_MS = 5_000
MAX_CLIP_MS = 24 * 3_600_000  # the longest clip, and case item, there is


def event_range(event: Event, now: int) -> tuple[int, int]:
    """From 5 s before the event to 5 s after its end, or to now while it goes on (its last update moves only with
    a better snapshot: a live alert added to a case covered its first seconds only)."""
    end_ms = event.end_ms if event.end_ms is not None else max(event.updated_ms, now)
    return event.start_ms - CLIP_PRE_ROLL_MS, end_ms + CLIP_POST_ROLL_MS
