"""A camera's stream that stops for a while and comes back: the stall is no frame rate (detect/bank.py, STALL_GAP)."""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from detect.bank import DetectorBank
from detect.regions import frame_steps
from detect.settings import CameraDetectSettings
from scripts.make_detect_corpus import play, rain_day, score, wind, work_frames


def steps_after(times: list[float]) -> int:
    """How many frames at the tuned rate the bank takes one camera's frames to be apart, after frames at `times`."""
    bank = DetectorBank()
    bank.add_camera("c", CameraDetectSettings())
    rng = np.random.default_rng(1)
    for t in times:
        bank.submit("c", rng.integers(90, 110, (90, 160), dtype=np.uint8), None, t)
        bank.tick(t)
    return int(frame_steps(bank._table.interval[:1])[0])


def test_a_stall_leaves_the_frame_rate_and_a_slower_rate_is_followed() -> None:
    at_15 = [i / 15 for i in range(60)]
    assert steps_after(at_15 + [44 + i / 15 for i in range(3)]) == 1  # 40 s without a frame, then 15 fps again
    assert steps_after(at_15 + [4 + i / 3 for i in range(60)]) == 5  # set to 3 fps: 5 frames at 15 fps apart


def test_weather_after_a_stall_raises_no_alarm() -> None:
    """Trees in the wind and rain by day, each stream stopping for 10 s in its first quiet stretch: before, the
    frames' interval took the stall in (0.07 s became 1.1 s), the rules for a camera at 1 fps widened for the next
    two seconds, and each clip alarmed right after its stream came back."""
    names = {"wind-crossroad", "wind-alley-dusk", "rain-day-alley", "rain-day-crossroad"}
    clips = [replace(clip, name=f"{clip.name}-stall", losses=((2.0, 12.0),), spec=replace(clip.spec, seconds=20.0))
             for clip in wind() + rain_day() if clip.name in names]
    played = play(clips, work_frames(clips))
    assert len(played) == 4
    assert [score(p).false_alarms for p in played] == [0, 0, 0, 0]
    assert all(p.motion for p in played)  # the people crossing from 15 s are seen
