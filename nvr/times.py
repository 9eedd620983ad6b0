"""Instants as people type them (ISO 8601 or Unix seconds) and as the station shows them."""

from __future__ import annotations

import math
import re
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

# Every instant the station accepts lies in 1970-01-01 .. 9999-12-30 UTC: it fits the index's 64-bit
# columns and shows in any time zone (a day short of year 10000, which no zone's offset reaches past).
MIN_INSTANT_MS = 0
MAX_INSTANT_MS = round(datetime(9999, 12, 31, tzinfo=UTC).timestamp() * 1000) - 1


_SECONDS = re.compile(r"[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")


class TimeFormatError(ValueError):
    pass


def parse_instant(text: str, zone: ZoneInfo) -> int:
    """UTC milliseconds from ISO 8601 (with offset; without one it is the station's local time) or Unix seconds,
    within MIN_INSTANT_MS..MAX_INSTANT_MS; TimeFormatError for anything else (inf, nan, 1e20, year 1)."""
    value = text.strip()
    if _SECONDS.fullmatch(value):  # not float()'s: it reads "1_000" and other scripts' digits as numbers too
        return _in_range(float(value) * 1000, text)  # a 5,000-digit number is out of range
    try:
        moment = datetime.fromisoformat(value.replace(" ", "T", 1) if " " in value else value)
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=zone)
        milliseconds = moment.timestamp() * 1000
    except ValueError:
        raise TimeFormatError(
            f"{_shown(text)} is not a time: use ISO 8601 such as 2026-11-22T14:30:00+07:00, or Unix seconds"
        ) from None
    except OverflowError:  # year 1 or 9999 moved by the zone's offset beyond what datetime holds
        milliseconds = math.inf
    return _in_range(milliseconds, text)


def _in_range(milliseconds: float, text: str) -> int:
    if not MIN_INSTANT_MS <= milliseconds <= MAX_INSTANT_MS:
        raise TimeFormatError(f"{_shown(text)} is out of range: times must lie between 1970 and 9999")
    return round(milliseconds)


def _shown(text: str) -> str:
    """The input as quoted in an error, cut short: a 5,000-digit number is not echoed back whole."""
    return repr(text) if len(text) <= 40 else repr(text[:40]) + "..."


def format_instant(ms: int, zone: ZoneInfo) -> str:
    """ISO 8601 in the station's time zone, with its offset, to the millisecond."""
    return datetime.fromtimestamp(ms / 1000, UTC).astimezone(zone).isoformat(timespec="milliseconds")
