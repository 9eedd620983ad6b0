"""Recorded ranges and explicit gaps."""

from __future__ import annotations

from storage.clock_steps import ClockStep
from storage.index import Outage, Segment
from storage.timeline import CLOCK_STEP_GAP, UNKNOWN_GAP, gaps, keyframe_times, recorded_ranges


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


def test_the_jump_of_a_forward_clock_step_is_a_gap_of_its_own() -> None:
    """Stamps went from 10 s to 70 s at a step of the clock: that part of a gap is no time, said so; the rest of the
    gap keeps its reasons, and a gap ending a moment after the jump is the jump alone."""
    step = ClockStep(before_ms=10_000, after_ms=70_000, since_ms=0)
    ranges = recorded_ranges([(0, 10_000), (70_200, 90_000), (200_000, 210_000)], 0, 210_000)
    found = gaps(ranges, [Outage("a", 90_000, 95_000, "Connection refused")], 0, 210_000, [step])
    assert [(g.start_ms, g.end_ms, g.reason) for g in found] == [
        (10_000, 70_200, CLOCK_STEP_GAP), (90_000, 95_000, "Connection refused"), (95_000, 200_000, UNKNOWN_GAP)]
    across = gaps(recorded_ranges([(0, 5_000), (80_000, 90_000)], 0, 90_000),
                  [Outage("a", 5_000, 80_000, "stream ended")], 0, 90_000, [step])
    assert [(g.start_ms, g.end_ms, g.reason) for g in across] == [
        (5_000, 10_000, "stream ended"), (10_000, 70_000, CLOCK_STEP_GAP), (70_000, 80_000, "stream ended")]


def test_each_part_of_a_gap_has_the_reasons_of_its_own_time() -> None:
    """A day's gap of a camera refused for its last hour was labelled, the whole day, with the refusal (an audit):
    each part says its own reason; the seconds between the last picture and the loss being noticed, and between an
    outage's end and the first picture, go with the outage beside them."""
    hour = 3_600_000
    found = gaps([], [Outage("a", 23 * hour, None, "Connection refused")], 0, 24 * hour)
    assert [(g.start_ms, g.end_ms, g.reason) for g in found] == [
        (0, 23 * hour, UNKNOWN_GAP), (23 * hour, 24 * hour, "Connection refused")]
    ranges = recorded_ranges([(0, 10_000), (200_000, 210_000)], 0, 210_000)
    outages = [Outage("a", 15_000, 100_000, "read timeout"), Outage("a", 100_000, 190_000, "Connection refused")]
    assert [(g.start_ms, g.end_ms, g.reason) for g in gaps(ranges, outages, 0, 210_000)] == [
        (10_000, 100_000, "read timeout"), (100_000, 200_000, "Connection refused")]
    overlapping = [Outage("a", 15_000, 150_000, "stream ended"), Outage("a", 100_000, 190_000, "no video")]
    assert [(g.start_ms, g.end_ms, g.reason) for g in gaps(ranges, overlapping, 0, 210_000)] == [
        (10_000, 100_000, "stream ended"), (100_000, 150_000, "stream ended; no video"), (150_000, 200_000, "no video")]


def test_no_footage_is_one_gap() -> None:
    assert [(g.start_ms, g.end_ms) for g in gaps([], [Outage("a", 0, None, "offline")], 0, 5000)] == [(0, 5000)]


def test_keyframes_of_a_window_are_led_by_the_one_at_or_before_its_start() -> None:
    first = Segment("a", "a/1.mp4", 10_000, 12_000, 1, (0, 1000))
    second = Segment("a", "a/2.mp4", 11_990, 14_000, 1, (0, 1000))  # a frame of overlap after a resync
    assert keyframe_times([second, first], 11_500, 13_000) == [11_000, 11_990, 12_990] == \
        keyframe_times([first, second], 11_000, 13_000)
    assert keyframe_times([first], 5_000, 10_500) == [10_000], "before the first keyframe: the first one"
    assert keyframe_times([first], 12_500, 20_000) == [11_000]
    assert first.keyframe_offset(11_999) == 1000 and first.keyframe_offset(9_000) == 0
