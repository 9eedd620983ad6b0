"""Instants as people type them (ISO 8601 or Unix seconds) and as the station shows them."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo


class TimeFormatError(ValueError):
    pass


def parse_instant(text: str, zone: ZoneInfo) -> int:
    """UTC milliseconds from ISO 8601 (with offset; without one it is the station's local time) or Unix seconds."""
    value = text.strip()
    try:
        return round(float(value) * 1000)
    except ValueError:
        pass
    try:
        moment = datetime.fromisoformat(value.replace(" ", "T", 1) if " " in value else value)
    except ValueError:
        raise TimeFormatError(
            f"{text!r} is not a time: use ISO 8601 such as 2026-11-22T14:30:00+07:00, or Unix seconds"
        ) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=zone)
    return round(moment.timestamp() * 1000)


def format_instant(ms: int, zone: ZoneInfo) -> str:
    """ISO 8601 in the station's time zone, with its offset, to the millisecond."""
    return datetime.fromtimestamp(ms / 1000, UTC).astimezone(zone).isoformat(timespec="milliseconds")
