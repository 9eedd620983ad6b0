"""The station's wall-clock time over an exported clip: one caption a second, in the station's time zone, so
that a player shows when each picture was recorded without the clip's own timing being touched."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from storage.timed_text import Caption


def caption_text(ms: int, zone: ZoneInfo) -> str:
    """`22/11/2026 14:30:05 (UTC+07:00)`: the day first, as people write it in Vietnam, and the offset."""
    local = datetime.fromtimestamp(ms / 1000, UTC).astimezone(zone)
    return f"{local:%d/%m/%Y %H:%M:%S} (UTC{local.isoformat()[-6:]})"


def wall_clock_captions(start_ms: int, end_ms: int, zone: ZoneInfo) -> Iterator[Caption]:
    """One caption per wall-clock second of [start_ms, end_ms)."""
    second = start_ms - start_ms % 1000
    while second < end_ms:
        yield Caption(max(second, start_ms), min(second + 1000, end_ms), caption_text(second, zone))
        second += 1000
