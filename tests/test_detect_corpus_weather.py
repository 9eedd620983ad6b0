"""Detection quality in the weather (issue 15) on the labelled scenario corpus (scripts/make_detect_corpus.py):
rain by day and in infrared, a drizzle-to-downpour ramp, snow, a shaking pole, wind, water and surf, each with
people and motorbikes crossing. The streets without weather are in tests/test_detect_corpus.py.

The scenarios are rendered and played through the real detector bank and event machine; the two cores each take
half of them (`tests.support.corpus`, which keeps their work frames in .cache/detect-corpus).
"""

from __future__ import annotations

import pytest

from scripts.make_detect_corpus import SCENARIOS, WEATHER, Score, scenario_scores
from tests.support.corpus import CACHE, scored

# the longest first, so that both processes finish at about the same time
ORDER = ["shake", "snow", "surf", "rain-ramp", "rain-ir", "rain-day", "wind", "water"]
# issue 15's targets not met yet (design/detection_weather.md): expected to fail; one that passes shows as XPASS
# in the summary (not strict: the drizzle-to-downpour ramp is two movers short, and a machine whose
# floating point differs in the last bit may find it), and is then taken off this list
UNMET = {"held": {"surf"}, "false alarms": {"surf"}, "recall": {"rain-ir", "rain-ramp", "snow"}}


def weather(target: str) -> list[object]:
    """The weather scenarios, those that miss `target` marked as expected to fail."""
    unmet = pytest.mark.xfail(strict=False, reason=f"issue 15: {target} not met yet")
    return [pytest.param(name, marks=unmet) if name in UNMET[target] else name for name in WEATHER]


@pytest.fixture(scope="module")
def quality() -> dict[str, Score]:
    assert sorted(ORDER) == sorted(WEATHER)
    return {name: by_rate[1] for name, by_rate in scored(ORDER, []).items()}


def test_a_30_fps_camera_in_the_wind_is_analysed_at_15_a_second_and_stays_quiet() -> None:
    """The rules were tuned at 15 fps. With every frame of a 30 fps camera analysed, the wind's trees and awnings
    raised 5 false alarms (rendered and coded alike, design/detection_frame_rate.md); the decoder tap hands the bank
    15 a second of them (`ingest.frame_picker`), as `play` does."""
    result = scenario_scores("wind", CACHE, fps=30)[1]
    assert result.objects >= 20
    assert result.recall is not None and result.recall >= 0.95, result.missed
    assert result.false_alarms <= 1, result.missed


@pytest.mark.parametrize("name", weather("held"))
def test_rain_snow_wind_water_and_shake_hold_no_alarm_through_the_quiet_stretches(quality: dict[str, Score],
                                                                                name: str) -> None:
    """Each clip has 15 s of the scene's own moving background before and after the movers: motion events may
    cover at most 1 % of that time (the issue's real clips were one event from start to end)."""
    result = quality[name]
    assert result.quiet_seconds >= 90
    assert result.held_seconds <= 0.01 * result.quiet_seconds, (result.held_seconds, result.missed)


@pytest.mark.parametrize("name", weather("false alarms"))
def test_rain_snow_wind_water_and_shake_raise_at_most_one_false_alarm_per_camera_hour(quality: dict[str, Score],
                                                                                    name: str) -> None:
    result = quality[name]
    assert result.false_alarms <= result.hours, (result.false_alarms, result.hours, result.missed)


@pytest.mark.parametrize("name", weather("recall"))
def test_people_and_motorbikes_in_rain_snow_wind_water_and_shake_are_found_within_half_a_second(
        quality: dict[str, Score], name: str) -> None:
    result = quality[name]
    assert result.objects >= 20
    assert result.recall is not None and result.recall >= 0.95, result.missed


def test_a_scenario_redrawn_has_other_weather_and_the_same_streets_and_people() -> None:
    """`--draw K` (`redrawn`): one draw of drops, flakes or gusts is one sample; a change is judged over several
    (2026-11-30: rain by day, wind, shake and water, quiet on the corpus as drawn, alarmed on other draws)."""
    from scripts.make_detect_corpus import redrawn
    from scripts.weather_effects import WINDIEST, Rain

    clips = SCENARIOS["rain-day"]()
    assert redrawn(clips, 0) is clips
    again = redrawn(clips, 2)
    assert [clip.name for clip in again] == [f"{clip.name}~2" for clip in clips]
    for first, other in zip(clips, again, strict=True):
        assert other.spec == first.spec and other.settings == first.settings
        assert [type(effect) for effect in other.effects] == [type(effect) for effect in first.effects]
        assert all(b.seed != a.seed for a, b in zip(first.effects, other.effects, strict=True))  # type: ignore[attr-defined]
    # and the rain other wind: a squall's slant, either way
    slants = [effect.slant for draw in (1, 2, 3) for clip in redrawn(clips, draw) for effect in clip.effects
              if isinstance(effect, Rain)]
    assert all(abs(slant) <= WINDIEST for slant in slants) and min(slants) < -0.3 and max(slants) > 0.3, slants
    one, _ = next(clips[0].frames())
    two, _ = next(again[0].frames())
    assert one.boxes == two.boxes and (one.y != two.y).any()


def test_a_snowflake_near_the_lens_falls_somewhere_else_each_time() -> None:
    """A flake that fell out of the picture comes back as another, elsewhere across: until 2026-11-30 each near-lens
    disc fell down the same column all through a clip, the variability learnt those columns, and the people crossing
    them were missed (snow's recall 0.29 on one draw, 0.68 on another)."""
    import numpy as np

    from ingest.demo.synthetic import Frame
    from scripts.weather_effects import Snow

    snow = Snow(7, flakes=100)  # one disc near the lens
    width, height, fps = 320, 180, 15.0
    columns = []
    for index in range(int(8 * fps)):
        frame = Frame(index, index / fps, np.full((height * 3 // 2, width), 60, np.uint8), (), 1.0, False, fps)
        snow.draw(frame, frame.time)
        veil = frame.y.astype(int) - 60 > 20  # the disc veils a wide area; a far flake is a pixel or two
        if veil.sum() > 0.02 * width * height:
            columns.append(float(np.median(np.nonzero(veil)[1])))
    assert len(columns) > 20
    assert max(columns) - min(columns) > width / 3, columns


def test_rain_slanting_either_way_falls_as_thick_at_both_edges() -> None:
    """A streak that slants left starts beyond the picture's right edge: until 2026-11-30 the streaks started within
    it only, which did not matter while every clip's rain slanted right; other draws' wind slants it either way."""
    import numpy as np

    from ingest.demo.synthetic import Frame
    from scripts.weather_effects import WINDIEST, Rain

    width, height, fps = 320, 180, 15.0
    for slant in (WINDIEST, -WINDIEST):
        rain = Rain(3, drops=(400.0, 400.0), slant=slant)
        wet = np.zeros(width)
        for index in range(30):
            frame = Frame(index, index / fps, np.full((height * 3 // 2, width), 60, np.uint8), (), 1.0, False, fps)
            rain.draw(frame, frame.time)
            wet += (frame.y[:height] > 60).sum(axis=0)  # streak pixels per column
        middle, left, right = wet[width // 2 - 10: width // 2 + 10].mean(), wet[:4].mean(), wet[-4:].mean()
        # the old placement left a slant of -0.8 a third of the middle's rain in the outer 4 columns
        assert 0.6 * middle < left < 1.4 * middle and 0.6 * middle < right < 1.4 * middle, (slant, left, middle, right)
