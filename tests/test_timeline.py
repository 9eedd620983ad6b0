"""Recorded ranges and explicit gaps."""

from __future__ import annotations

from storage.index import Outage
from storage.timeline import UNKNOWN_GAP, gaps, recorded_ranges


def test_adjacent_segments_merge_and_gaps_carry_reasons() -> None:
    segments = [(30_000, 40_000), (0, 10_000), (10_010, 20_000), (60_000, 70_000)]
    ranges = recorded_ranges(segments, 5_000, 65_000)
    assert [(r.start_ms, r.end_ms) for r in ranges] == [(5_000, 20_000), (30_000, 40_000), (60_000, 65_000)]
    outages = [Outage("a", 20_500, 29_000, "Connection refused")]
    found = gaps(ranges, outages, 0, 80_000)
    assert [(g.start_ms, g.end_ms, g.reason) for g in found] == [
        (0, 5_000, UNKNOWN_GAP),
        (20_000, 30_000, "Connection refused"),
        (40_000, 60_000, UNKNOWN_GAP),
        (65_000, 80_000, UNKNOWN_GAP),
    ]


def test_no_footage_is_one_gap() -> None:
    assert [(g.start_ms, g.end_ms) for g in gaps([], [Outage("a", 0, None, "offline")], 0, 5000)] == [(0, 5000)]
