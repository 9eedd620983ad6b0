"""The station's wall clock, in the catalog's unit: milliseconds since the Unix epoch (one definition)."""

from __future__ import annotations

import time


def now_ms() -> int:
    return round(time.time() * 1000)
