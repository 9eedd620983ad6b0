"""The labelled scenario corpus for detection quality, and its scoring. Run it to print the quality table.

Scenes come from `ingest.demo.synthetic` (streets, movers with ground-truth boxes, sensor noise, light
changes, IR night, the camera clock); this module adds what a street camera also sees and the
synthetic scenes lack: insects near the lens at night, swaying foliage (in a masked zone), a large
clock overlay, covering, turning away, defocusing, and streams that stop. Frames are rendered as
NumPy arrays (no encoding) at a small size, and played through the real `DetectorBank` and
`EventMachine`, several clips side by side as cameras of one bank.

    python scripts/make_detect_corpus.py [--scenario NAME ...] [--cache DIR] [--missed] [--fps N] [--max-fps N]
"""

from __future__ import annotations

import argparse
import itertools
import json
import math
import sys
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field, fields, replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import Protocol

import cv2
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from detect.bank import DetectorBank
from detect.events import EventMachine, EventUpdate
from detect.observation import Observation
from detect.settings import BankSettings, CameraDetectSettings
from ingest.demo import encode_frames
from ingest.demo.synthetic import (
    Box,
    Frame,
    LightEvent,
    SceneSpec,
    first_frames,
    render,
)
from ingest.demo.traffic import ROUTES, random_movers
from ingest.demo.world import LAYOUTS, Place
from ingest.frame_picker import FramePicker
from scripts.corpus_cache import WorkFrame, cached, reduced
from scripts.weather_effects import Awning, Effect, Rain, Shake, Snow, Surf, Tree, Water, WetRoad

SIZE = (640, 360)  # the sub stream the bank usually gets
NOISY_SIZE = (320, 180)  # static hours: a quarter of the pixels, twice the noise per work pixel, 2.5x faster
FPS = 15  # the corpus' frame rate (`--fps` renders it at another: `at_rate`)
MIN_OBJECT = 0.003  # objects at least this fraction of the frame must be found ...
ONSET_SECONDS = 0.5  # ... within this long of reaching that size
TAMPER_SECONDS = 3.0  # tamper must be reported within this long
LOSS_SECONDS = BankSettings().video_loss_seconds + 1.0  # video loss must be reported within this long
TAMPER_INSTANCES = 8  # of each kind
QUIET_SECONDS = 3.0  # no mover in sight for this long: a quiet stretch, where no motion event may be held
PLACES: tuple[Place, ...] = ("alley", "crossroad", "shopfront")
TamperKind = str  # "covered", "moved", "defocus"


# ---------------------------------------------------------------------------------------------- effects

@dataclass
class Insects(Effect):
    """Moths and flies lit by the IR illuminator right in front of the lens: big, blurred, bright,
    erratic blobs, each for `life` s, one every `every` s."""

    seed: int
    every: float = 4.0
    life: tuple[float, float] = (0.2, 0.9)

    def __post_init__(self) -> None:
        rng = np.random.default_rng([self.seed, 77])
        self._flights = []
        t = self.start + float(rng.uniform(0.5, self.every))
        while t < min(self.end, 4 * 3600):
            life = float(rng.uniform(*self.life))
            points = rng.uniform(0.0, 1.0, (max(3, int(life * 8)), 2))  # a jittery path across the view
            self._flights.append((t, life, points, float(rng.uniform(0.06, 0.16)), float(rng.uniform(70, 150))))
            t += life + float(rng.exponential(self.every))

    def draw(self, frame: Frame, t: float) -> None:
        y = frame.y
        height, width = y.shape
        for start, life, points, radius, brightness in self._flights:
            if start <= t < start + life:
                f = (t - start) / life * (len(points) - 1)
                i = min(int(f), len(points) - 2)
                x, v = points[i] + (points[i + 1] - points[i]) * (f - i)
                blob: np.ndarray = np.zeros_like(y, dtype=np.float32)
                cv2.circle(blob, (int(x * width), int(v * height)), max(2, int(radius * height)), 1.0, -1)
                blob = cv2.GaussianBlur(blob, (0, 0), radius * height * 0.5)
                y[...] = np.clip(y + blob * brightness, 0, 255).astype(np.uint8)


@dataclass
class Foliage(Effect):
    """A tree's leaves swaying in the wind inside `box` (normalized x0, y0, x1, y1)."""

    box: tuple[float, float, float, float]
    seed: int

    def __post_init__(self) -> None:
        rng = np.random.default_rng([self.seed, 78])
        self._leaves = rng.uniform(0, 1, (400, 64)).astype(np.float32)

    @property
    def polygon(self) -> tuple[tuple[float, float], ...]:
        x0, y0, x1, y1 = self.box
        return (x0, y0), (x1, y0), (x1, y1), (x0, y1)

    def draw(self, frame: Frame, t: float) -> None:
        y, u, v = frame.y, frame.u, frame.v
        height, width = y.shape
        x0, y0, x1, y1 = (int(self.box[0] * width), int(self.box[1] * height), int(self.box[2] * width),
                          int(self.box[3] * height))
        sway = 6.0 * math.sin(2 * math.pi * t / 1.7) + 3.0 * math.sin(2 * math.pi * t / 0.63)
        texture = cv2.resize(self._leaves, (x1 - x0 + 16, y1 - y0), interpolation=cv2.INTER_LINEAR)
        texture = cv2.GaussianBlur(texture, (0, 0), 1.2)
        shifted = np.roll(texture, round(sway), axis=1)[:, 8: 8 + x1 - x0]
        y[y0:y1, x0:x1] = (40 + 120 * shifted).astype(np.uint8)
        u[y0 // 2: y1 // 2, x0 // 2: x1 // 2] = 110
        v[y0 // 2: y1 // 2, x0 // 2: x1 // 2] = 115


@dataclass
class BigClock(Effect):
    """A large camera clock (a line of about 6 % of the height) burnt into the top-left corner."""

    clock: datetime = datetime(2025, 3, 14, 23, 59, 40)

    def draw(self, frame: Frame, t: float) -> None:
        y = frame.y
        height = y.shape[0]
        text = (self.clock + timedelta(seconds=int(t))).strftime("%Y-%m-%d %H:%M:%S")
        scale = height / 400
        origin = (int(0.03 * y.shape[1]), int(0.12 * height))
        cv2.putText(y, text, origin, cv2.FONT_HERSHEY_SIMPLEX, scale, 16, max(2, int(scale * 5)), cv2.LINE_AA)
        cv2.putText(y, text, origin, cv2.FONT_HERSHEY_SIMPLEX, scale, 235, max(1, int(scale * 2)), cv2.LINE_AA)


@dataclass
class Cover(Effect):
    """A hand (dark) or a sheet of paper (bright, with a soft gradient) over the lens, put on within `ramp` s."""

    bright: bool = False
    ramp: float = 0.4

    def draw(self, frame: Frame, t: float) -> None:
        y, u, v = frame.y, frame.u, frame.v
        height, width = y.shape
        if self.bright:
            cover = np.linspace(150, 190, width, dtype=np.float32)[None, :].repeat(height, 0)
        else:
            cover = np.full((height, width), 22, np.float32)
        k = min(1.0, (t - self.start) / self.ramp)
        y[...] = (y * (1 - k) + cover * k).astype(np.uint8)
        for plane in (u, v):  # dim but not grey: the camera stays in its mode
            plane[...] = (128 + (plane.astype(np.float32) - 128) * (1 - 0.6 * k)).astype(np.uint8)


@dataclass
class Turn(Effect):
    """The camera is turned away within `ramp` s: it pans onto another street, or tilts down to the ground."""

    other: SceneSpec
    tilt: bool = False
    ramp: float = 0.6

    def __post_init__(self) -> None:
        self._view = next(render(replace(self.other, movers=(), light=(), overlay=False, seconds=1.0)))

    def draw(self, frame: Frame, t: float) -> None:
        k = min(1.0, (t - self.start) / self.ramp)
        planes = (frame.y, frame.u, frame.v)
        if self.tilt:  # the lower part of the picture fills the frame: ground, close up
            for plane in planes:
                cut = int(plane.shape[0] * 0.55 * k)
                plane[...] = cv2.resize(plane[cut:].copy(), (plane.shape[1], plane.shape[0]))
            return
        for here, there in zip(planes, (self._view.y, self._view.u, self._view.v), strict=True):
            shift = int(here.shape[1] * k)
            panned = np.hstack([here, there])[:, shift: shift + here.shape[1]]
            here[...] = panned


@dataclass
class Defocus(Effect):
    """Focus lost (or the lens smeared: blur plus haze) within `ramp` s."""

    sigma: float = 0.015  # of the width
    haze: float = 0.0
    ramp: float = 0.5

    def draw(self, frame: Frame, t: float) -> None:
        y = frame.y
        k = min(1.0, (t - self.start) / self.ramp)
        blurred = cv2.GaussianBlur(y, (0, 0), max(0.3, self.sigma * y.shape[1] * k))
        if self.haze:
            blurred = cv2.addWeighted(blurred, 1 - self.haze * k, np.full_like(y, 160), self.haze * k, 0)
        y[...] = blurred


# ---------------------------------------------------------------------------------------------- clips

@dataclass(frozen=True)
class TamperLabel:
    kind: TamperKind
    start: float
    end: float


@dataclass
class Clip:
    """One camera of the corpus: a scene, effects drawn over it, settings, and what should be detected."""

    name: str
    spec: SceneSpec
    settings: CameraDetectSettings = field(default_factory=CameraDetectSettings)
    effects: tuple[Effect, ...] = ()
    tampers: tuple[TamperLabel, ...] = ()
    losses: tuple[tuple[float, float], ...] = ()  # [start, end) s without frames
    recall: bool = True  # objects in it count for recall (not during IR switches' rebuild, say)

    def frames(self) -> Iterator[tuple[Frame, bool]]:
        """Each rendered frame (effects drawn over it) and whether the stream is lost then: not handed over."""
        for rendered in render(self.spec):
            frame = rendered
            lost = any(start <= frame.time < end for start, end in self.losses)
            if not lost:
                for effect in self.effects:
                    if effect.active(frame.time):
                        effect.draw(frame, frame.time)
                        frame = replace(frame, boxes=effect.moved(frame, frame.time))
            yield frame, lost


def _spec(seed: int, place: Place, seconds: float, movers: int = 0, size: tuple[int, int] = SIZE,
          **kwargs: object) -> SceneSpec:
    traffic = random_movers(np.random.default_rng(seed), ROUTES[place], movers, seconds) if movers else ()
    return SceneSpec(seed=seed, place=place, width=size[0], height=size[1], fps=FPS, seconds=seconds,
                     movers=traffic, **kwargs)  # type: ignore[arg-type]


def day_objects() -> list[Clip]:
    """Busy day streets: people, motorbikes and cars of all sizes and speeds."""
    return [Clip(f"day-{place}-{seed}", _spec(seed, place, 60.0, movers=40))
            for seed, place in enumerate(PLACES, start=101)]


def static_hour(infrared: bool = False) -> list[Clip]:
    """Nothing moves for an hour (split over four cameras): sensor noise and the ticking clock only.
    Rendered at NOISY_SIZE: twice the noise per work pixel of a 360p sub stream, and faster to make."""
    cameras = 4
    seconds = 3600 / cameras
    night = ((0.0, seconds + 1),) if infrared else ()
    return [Clip(f"static-{'ir' if infrared else 'day'}-{i}",
                 _spec(200 + i + 10 * infrared, PLACES[i % 3], seconds, size=NOISY_SIZE, infrared=night))
            for i in range(cameras)]


def light_changes() -> list[Clip]:
    """Slow ramps (clouds, dusk) and sudden switches, with and without people about."""
    s = 40.0
    ramps = (LightEvent(0.15 * s, 0.6, 0.2 * s), LightEvent(0.55 * s, 1.2, 0.15 * s))
    switches = (LightEvent(0.25 * s, 1.45), LightEvent(0.5 * s, 0.7), LightEvent(0.75 * s, 1.0))
    clips = []
    for i, place in enumerate(PLACES):
        for name, light in (("ramp", ramps), ("switch", switches)):
            clips.append(Clip(f"light-{name}-{place}-quiet", _spec(300 + i, place, s, light=light)))
            clips.append(Clip(f"light-{name}-{place}-busy", _spec(310 + i, place, s, movers=25,
                                                                  light=light)))
    return clips


def infrared_switches() -> list[Clip]:
    """Colour to IR and back (with the dusk dimming before), quiet, and with people about."""
    s = 40.0
    night = ((0.3 * s, 0.7 * s),)
    dusk = (LightEvent(0.05 * s, 0.5, 0.2 * s), LightEvent(0.3 * s, 1.0), LightEvent(0.7 * s, 0.5),
            LightEvent(0.72 * s, 1.0, 0.2 * s))
    clips = []
    for i, place in enumerate(PLACES):
        clips.append(Clip(f"ir-switch-{place}-quiet", _spec(400 + i, place, s, light=dusk, infrared=night)))
        clips.append(Clip(f"ir-switch-{place}-busy",
                          _spec(410 + i, place, s, movers=25, light=dusk, infrared=night)))
    return clips


def night_objects() -> list[Clip]:
    """IR night streets with people and motorbikes, and insects near the lens."""
    s = 60.0
    night = ((0.0, s + 1),)
    return [Clip(f"night-{place}", _spec(500 + i, place, s, movers=30, infrared=night),
                 effects=(Insects(500 + i, every=6.0),))
            for i, place in enumerate(PLACES)]


def insects() -> list[Clip]:
    """Quiet IR nights with insects flying around the illuminator: no motion alarms."""
    s = 120.0
    night = ((0.0, s + 1),)
    return [Clip(f"insects-{place}", _spec(600 + i, place, s, infrared=night), effects=(Insects(600 + i),))
            for i, place in enumerate(PLACES)]


def foliage() -> list[Clip]:
    """A tree swaying in a masked corner: no alarms from it; people elsewhere still found."""
    s = 60.0
    clips = []
    for i, place in enumerate(PLACES):
        tree = Foliage((0.72, 0.05, 0.98, 0.45), seed=700 + i)
        settings = CameraDetectSettings(masks=(tree.polygon,))
        clips.append(Clip(f"foliage-{place}-quiet", _spec(700 + i, place, s), settings, (tree,)))
        clips.append(Clip(f"foliage-{place}-busy", _spec(710 + i, place, s, movers=30), settings,
                          (tree,)))
    return clips


def overlay() -> list[Clip]:
    """A large ticking clock (rolling over midnight: every digit changes) with automatic masking."""
    s = 90.0
    return [Clip(f"overlay-{place}", _spec(800 + i, place, s, overlay=False), effects=(BigClock(),))
            for i, place in enumerate(PLACES)]


def tampering() -> list[Clip]:
    """Each kind of tamper, TAMPER_INSTANCES times per kind, day and night, on quiet and busy streets."""
    clips = []
    before, during = 15.0, 8.0
    for n in range(TAMPER_INSTANCES):
        place = PLACES[n % 3]
        night = ((0.0, 60.0),) if n % 4 == 3 else ()
        movers = 10 if n % 2 else 0
        a, b = before, before + during
        kinds: list[tuple[TamperKind, Effect]] = [
            ("covered", Cover(bright=n % 2 == 1, start=a, end=b)),
            ("moved", Turn(_spec(900 + n, PLACES[(n + 1) % 3], 1.0), tilt=n % 3 == 2, start=a, end=b)),
            ("defocus", Defocus(haze=0.4 if n % 2 else 0.0, start=a, end=b)),
        ]
        for k, (kind, effect) in enumerate(kinds):  # each clip its own street
            spec = _spec(1000 + 10 * n + k, place, before + during + 5.0, movers=movers, infrared=night)
            clips.append(Clip(f"tamper-{kind}-{n}", spec, effects=(effect,),
                              tampers=(TamperLabel(kind, before, before + during),), recall=False))
    return clips


def stream_loss() -> list[Clip]:
    """Streams that stop for a while and come back."""
    return [Clip(f"loss-{place}", _spec(1100 + i, place, 30.0), losses=((10.0 + i, 20.0 + i),))
            for i, place in enumerate(PLACES)]


WEATHER_QUIET = 15.0  # s of the scene's own moving background alone, before and after ...
WEATHER_BUSY = 30.0  # ... people and motorbikes crossing it


def _weather(name: str, seed: int, place: Place, effects: tuple[Effect, ...], night: bool = False,
             dusk: bool = False, movers: int = 14) -> Clip:
    """A clip of weather, wind or shaking: WEATHER_QUIET s of it alone, WEATHER_BUSY s with movers crossing,
    WEATHER_QUIET s alone again; all of it in infrared (`night`), or switching to infrared and back in the quiet
    stretches (`dusk`)."""
    seconds = 2 * WEATHER_QUIET + WEATHER_BUSY
    busy = random_movers(np.random.default_rng(seed), ROUTES[place], movers, WEATHER_BUSY)
    light: tuple[LightEvent, ...] = ()
    infrared: tuple[tuple[float, float], ...] = ((0.0, seconds + 1),) if night else ()
    if dusk:  # dimming, infrared within the first quiet stretch, colour again within the last one
        light = (LightEvent(2.0, 0.5, 6.0), LightEvent(0.2 * seconds, 1.0), LightEvent(0.85 * seconds, 0.5),
                 LightEvent(0.87 * seconds, 1.0, 3.0))
        infrared = ((0.2 * seconds, 0.85 * seconds),)
    spec = replace(_spec(seed, place, seconds, light=light, infrared=infrared),
                   movers=tuple(replace(mover, start=mover.start + WEATHER_QUIET) for mover in busy))
    return Clip(name, spec, effects=effects)


def _ground(place: Place) -> float:
    """Where the ground starts (fraction of the height): just below the horizon."""
    return LAYOUTS[place].horizon + 0.03


def rain_day() -> list[Clip]:
    """Heavy rain by day: streaks, splashes, a wet road that shimmers and reflects the movers."""
    return [_weather(f"rain-day-{place}", 1200 + i, place,
                     (Rain(1200 + i, drops=(260, 260), ground=_ground(place)), WetRoad(1200 + i, _ground(place))))
            for i, place in enumerate(PLACES)]


def rain_infrared() -> list[Clip]:
    """Rain at night in the camera's own infrared light: bright drops, some right in front of the lens."""
    return [_weather(f"rain-ir-{place}", 1300 + i, place,
                     (Rain(1300 + i, drops=(200, 200), infrared=True, ground=_ground(place)),
                      WetRoad(1300 + i, _ground(place), shimmer=3.0, reflection=0.45)), night=True)
            for i, place in enumerate(PLACES)]


def rain_ramp() -> list[Clip]:
    """Drizzle turning into a downpour over the whole clip, by day and in infrared."""
    seconds = 2 * WEATHER_QUIET + WEATHER_BUSY
    clips = []
    for i, place in enumerate(PLACES):
        night = i == 1
        rain = Rain(1400 + i, drops=(15, 600), infrared=night, ground=_ground(place), ramp_end=seconds)
        clips.append(_weather(f"rain-ramp-{place}", 1400 + i, place, (rain, WetRoad(1400 + i, _ground(place))),
                              night=night))
    return clips


def snow() -> list[Clip]:
    """Snow-like particles, light to heavy, one clip in infrared."""
    return [_weather(f"snow-{place}", 1500 + i, place, (Snow(1500 + i, flakes=flakes),), night=i == 2)
            for i, (place, flakes) in enumerate(zip(PLACES, (400, 600, 800), strict=True))]


def shake() -> list[Clip]:
    """A camera on a pole: slow sub-pixel drift, 2-4 px jitter, jolts, and jitter with a jolt at night."""
    kinds: list[tuple[Place, Shake, bool]] = [
        ("alley", Shake(1600, drift=3.0), False),
        ("crossroad", Shake(1601, jitter=3.0), False),
        ("shopfront", Shake(1602, jolts=(6.0, 22.0, 33.0, 50.0)), False),
        ("alley", Shake(1603, jitter=2.0, jolts=(9.0, 28.0, 52.0), jolt=10.0), True),
        ("crossroad", Shake(1604, drift=1.5, jitter=4.0), False),
    ]
    return [_weather(f"shake-{i}-{place}", 1600 + i, place, (effect,), night=night)
            for i, (place, effect, night) in enumerate(kinds)]


def wind() -> list[Clip]:
    """Trees and awnings in gusty wind, not masked; one clip goes to infrared and back among them."""
    return [
        _weather("wind-crossroad", 1700, "crossroad", (Tree((0.0, 0.0, 0.3, 0.42), 1700),
                                                     Tree((0.74, 0.02, 1.0, 0.4), 1701, strength=1.4))),
        _weather("wind-shopfront", 1710, "shopfront", (Awning((0.02, 0.31, 0.46, 0.4), 1710),
                                                     Awning((0.54, 0.31, 0.98, 0.4), 1711, strength=1.3),
                                                     Tree((0.8, 0.0, 1.0, 0.3), 1712))),
        _weather("wind-alley-dusk", 1720, "alley", (Tree((0.62, 0.0, 1.0, 0.34), 1720, strength=1.3),
                                                    Tree((0.0, 0.0, 0.3, 0.3), 1721)), dusk=True),
    ]


def water() -> list[Clip]:
    """Water surfaces: a flooded strip of road, a puddle vehicles drive through, and one at dusk into infrared."""
    return [
        _weather("water-shopfront", 1800, "shopfront", (Water((0.0, 0.84, 1.0, 1.0), 1800),)),
        _weather("water-crossroad", 1810, "crossroad", (Water((0.0, 0.78, 0.3, 1.0), 1810, ripple=18.0),)),
        _weather("water-shopfront-dusk", 1820, "shopfront", (Water((0.0, 0.82, 1.0, 1.0), 1820),
                                                           Tree((0.75, 0.0, 1.0, 0.3), 1821)), dusk=True),
    ]


def surf() -> list[Clip]:
    """Waves breaking on a shore beyond the street (the far side of a bay behind them), in front of which the
    people and motorbikes pass: a long swell, a heavy surf, and the heavy surf at dusk into infrared."""
    sea = (0.0, LAYOUTS["shopfront"].horizon, 1.0, 0.54)
    clips = []
    for i, (period, run, dusk) in enumerate(((7.0, 5.0, False), (4.5, 3.5, False), (4.5, 3.5, True))):
        clip = _weather(f"surf-{i}-shopfront", 1900 + i, "shopfront", (), dusk=dusk)
        clip.effects = (Surf(sea, 1900 + i, clip.spec, period=period, run=run),)  # its movers hide the sea
        clips.append(clip)
    return clips


SCENARIOS: dict[str, Callable[[], list[Clip]]] = {
    "day-objects": day_objects,
    "static-day": static_hour,
    "static-ir": lambda: static_hour(infrared=True),
    "light-changes": light_changes,
    "ir-switches": infrared_switches,
    "night-objects": night_objects,
    "insects": insects,
    "foliage": foliage,
    "overlay": overlay,
    "tamper": tampering,
    "stream-loss": stream_loss,
    "rain-day": rain_day,
    "rain-ir": rain_infrared,
    "rain-ramp": rain_ramp,
    "snow": snow,
    "shake": shake,
    "wind": wind,
    "water": water,
    "surf": surf,
}
# each clip: quiet, busy, quiet
WEATHER = ["rain-day", "rain-ir", "rain-ramp", "snow", "shake", "wind", "water", "surf"]


# ---------------------------------------------------------------------------------------------- playing

@dataclass
class Played:
    """What the detector made of one clip: its observations with motion, and the event updates with the
    frame time at which each was emitted."""

    clip: Clip
    motion: dict[float, Observation] = field(default_factory=dict)
    updates: list[tuple[float, EventUpdate]] = field(default_factory=list)
    truth: list[tuple[Box, ...]] = field(default_factory=list)  # every rendered frame's movers (lost or not)
    frames: int = 0  # the camera watched (not lost); with `every`, the bank gets one in `every`


def work_frames(clips: list[Clip], cache: Path | None = None) -> dict[str, Iterable[WorkFrame]]:
    """Each clip's work frames, as it renders (kept in a `cache` directory if given: `scripts.corpus_cache`)."""
    size = BankSettings().work_size
    return {clip.name: cached(clip.name, clip.frames(), size, cache) if cache else reduced(clip.frames(), size)
            for clip in clips}


class Detector(Protocol):
    """What `play` runs the clips through: a `DetectorBank`, or a baseline with its interface
    (`scripts/baseline_mog2.py`)."""

    def add_camera(self, name: str, settings: CameraDetectSettings) -> None: ...

    def remove_camera(self, name: str) -> None: ...

    def submit(self, name: str, y: np.ndarray, chroma: tuple[np.ndarray, np.ndarray] | None, t: float) -> None: ...

    def tick(self, now: float) -> list[Observation]: ...


def play(clips: list[Clip], frames: dict[str, Iterable[WorkFrame]], every: int = 1,
         max_fps: float | None = None, detector: Detector | None = None) -> list[Played]:
    """Run the clips (all at one frame rate) side by side through one bank (or `detector`) and one event machine,
    frame by frame from their work `frames` (`work_frames`): every `every`-th frame (a camera at a lower frame
    rate), of those about `max_fps` a second, or as many as the decoder tap would hand the bank (`analysed_fps`)."""
    bank, machine = detector or DetectorBank(), EventMachine()
    played = {clip.name: Played(clip) for clip in clips}
    streams: dict[str, Iterator[WorkFrame]] = {name: iter(work) for name, work in frames.items()}
    pickers = {clip.name: FramePicker(max_fps or clip.settings.analysed_fps) for clip in clips}
    for clip in clips:
        bank.add_camera(clip.name, clip.settings)
    fps = _frame_rate(clips)
    index = 0
    while streams:
        now = index / fps
        for name, stream in list(streams.items()):
            frame = next(stream, None)
            if frame is None:
                del streams[name]
                bank.remove_camera(name)
                played[name].updates += [(now, u) for u in machine.close(name, now)]
                continue
            played[name].truth.append(frame.boxes)
            if not frame.lost:
                if index % every == 0 and pickers[name].take(frame.time):
                    bank.submit(name, frame.y, (frame.chroma[0], frame.chroma[1]), frame.time)
                played[name].frames += 1
        for obs in bank.tick(now):
            if obs.motion:
                played[obs.camera].motion[obs.t] = obs
            played[obs.camera].updates += [(now, update) for update in machine.feed([obs])]
        index += 1
    return list(played.values())


def _frame_rate(clips: list[Clip]) -> float:
    rates = {clip.spec.fps for clip in clips}
    assert len(rates) == 1, "the clips played together have one frame rate"
    return rates.pop()


def at_rate(clips: list[Clip], fps: int) -> list[Clip]:
    """The clips rendered at `fps` frames a second instead of FPS (a camera set to 25 or 30 fps), named apart for the
    cache: the same scenes, movers, light and sway in time; what is drawn anew each frame (a crown's flutter, glints,
    drops) changes as often as the frames do."""
    if fps == FPS:
        return clips
    return [replace(clip, name=f"{clip.name}@{fps}fps", spec=replace(clip.spec, fps=fps)) for clip in clips]


def encode_clip(clip: Clip, path: Path, bit_rate: int, first: int = 0, count: int | None = None) -> None:
    """Frames `first` .. `first + count` of the clip (default: to its end) coded at `bit_rate` (bits a second) into an
    H.264 MP4 at `path`, as a camera's stream is: to serve over RTSP, or for `nvr analyze`."""
    stop = None if count is None else first + count
    images = (frame.image for frame, _ in itertools.islice(clip.frames(), first, stop))
    encode_frames(images, (clip.spec.width, clip.spec.height), clip.spec.fps, path, bit_rate)


def redrawn(clips: list[Clip], draw: int) -> list[Clip]:
    """The clips with their weather drawn again (`draw` 1, 2, ...; 0: as they are): other drops, flakes, waves, gusts
    and jitter, from other seeds, and rain in other wind; the same streets, people, light and grain. Named apart for
    the cache. One draw is one sample of weather: a change is judged over several."""
    if draw == 0:
        return clips
    shift = 7919 * draw  # more than the corpus' seeds span (1000-1900): no draw's seeds meet another clip's
    return [replace(clip, name=f"{clip.name}~{draw}",
                    effects=tuple(effect.drawn_again(shift) for effect in clip.effects)) for clip in clips]


# ---------------------------------------------------------------------------------------------- scoring

def _overlap(a: tuple[float, float, float, float], b: tuple[float, float, float, float]) -> bool:
    ax, ay, aw, ah = a
    bx, by, bw, bh = b
    return ax < bx + bw and bx < ax + aw and ay < by + bh and by < ay + ah


def _truth(played: Played) -> list[list[tuple[int, tuple[float, float, float, float]]]]:
    """Per frame, (mover, normalized box) of every visible mover."""
    width, height = played.clip.spec.width, played.clip.spec.height
    return [[(box.mover, (box.x0 / width, box.y0 / height, (box.x1 - box.x0) / width, (box.y1 - box.y0) / height))
             for box in boxes] for boxes in played.truth]


@dataclass
class Score:
    objects: int = 0
    found: int = 0
    false_alarms: int = 0
    hours: float = 0.0
    tampers: int = 0
    tampers_found: int = 0
    tamper_delays: list[float] = field(default_factory=list)
    false_tampers: int = 0
    losses: int = 0
    losses_found: int = 0
    quiet_seconds: float = 0.0  # in quiet stretches
    held_seconds: float = 0.0  # of them inside motion events
    missed: list[str] = field(default_factory=list)

    def add(self, other: Score) -> None:
        for item in fields(self):  # counts add up, lists join
            setattr(self, item.name, getattr(self, item.name) + getattr(other, item.name))

    @property
    def recall(self) -> float | None:
        return self.found / self.objects if self.objects else None

    @property
    def tamper_recall(self) -> float | None:
        return self.tampers_found / self.tampers if self.tampers else None

    def table(self) -> dict[str, object]:
        row: dict[str, object] = {"objects": self.objects, "recall": _round(self.recall),
                                  "false_alarms": self.false_alarms, "hours": round(self.hours, 3),
                                  "false_alarms_per_hour":
                                      round(self.false_alarms / self.hours, 2) if self.hours else None,
                                  "quiet_seconds": round(self.quiet_seconds, 1),
                                  "held_seconds": round(self.held_seconds, 2)}
        if self.tampers:
            row |= {"tampers": self.tampers, "tamper_recall": _round(self.tamper_recall),
                    "tamper_delay_max": round(max(self.tamper_delays), 2) if self.tamper_delays else None}
        if self.tampers or self.false_tampers:
            row["false_tampers"] = self.false_tampers
        if self.losses:
            row |= {"losses": self.losses, "losses_found": self.losses_found}
        return row


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 3)


def score(played: Played) -> Score:
    clip = played.clip
    fps = clip.spec.fps
    result = Score(hours=played.frames / fps / 3600)  # the hours the camera was watched
    truth = _truth(played)
    motion_events = _events(played, "motion")
    if clip.recall:
        _score_recall(played, truth, motion_events, result)
    for start, _end in motion_events:  # an event no mover explains as it starts is a false alarm
        explained = any(_overlap(box, truth_box)
                        for t, obs in played.motion.items() if start <= t <= start + ONSET_SECONDS
                        for box in obs.boxes for _, truth_box in truth[min(round(t * fps), len(truth) - 1)])
        result.false_alarms += not explained
        if not explained:
            result.missed.append(f"{clip.name}: false motion at {start:.2f}")
    last = len(played.truth) / fps
    for quiet_start, quiet_end in _quiet_stretches(played):
        result.quiet_seconds += quiet_end - quiet_start
        for start, end in motion_events:
            result.held_seconds += max(0.0, min(quiet_end, last if end is None else end) - max(quiet_start, start))
    for label in clip.tampers:
        result.tampers += 1
        started = [(emitted, update) for emitted, update in played.updates
                   if update.kind == "started" and update.event.type == f"tamper_{label.kind}"
                   and label.start - 1.0 <= update.event.start < label.end]
        if started and started[0][0] - label.start <= TAMPER_SECONDS:
            result.tampers_found += 1
            result.tamper_delays.append(started[0][0] - label.start)
        else:
            result.missed.append(f"{clip.name}: {label.kind} at {label.start}")
    for _emitted, update in played.updates:
        if update.kind == "started" and update.event.type.startswith("tamper_"):
            kind = update.event.type.removeprefix("tamper_")
            if not any(label.kind == kind and label.start - 1.0 <= update.event.start < label.end + 2.0
                       for label in clip.tampers):
                result.false_tampers += 1
                result.missed.append(f"{clip.name}: false {update.event.type} at {update.event.start:.1f}")
    for start, _end in clip.losses:
        result.losses += 1
        found = [emitted for emitted, update in played.updates
                 if update.kind == "started" and update.event.type == "video_loss"
                 and start - 1.0 <= update.event.start <= start
                 and emitted <= start + LOSS_SECONDS]
        result.losses_found += bool(found)
    return result


def _quiet_stretches(played: Played) -> list[tuple[float, float]]:
    """[start, end) s of the stretches of QUIET_SECONDS or more with no mover in sight (of any size)."""
    stretches, since, fps = [], None, played.clip.spec.fps
    for index, boxes in enumerate([*played.truth, (Box(0, "person", 0, 0, 1, 1),)]):  # a mover closes the last
        if not boxes and since is None:
            since = index
        elif boxes and since is not None:
            if (index - since) / fps >= QUIET_SECONDS:
                stretches.append((since / fps, index / fps))
            since = None
    return stretches


def _events(played: Played, type_: str) -> list[tuple[float, float | None]]:
    opened: dict[float, float | None] = {}
    for _, update in played.updates:
        if update.event.type == type_:
            opened[update.event.start] = update.event.end
    return sorted(opened.items())


def _score_recall(played: Played, truth: list[list[tuple[int, tuple[float, float, float, float]]]],
                  motion_events: list[tuple[float, float | None]], result: Score) -> None:
    started = {update.event.start: emitted for emitted, update in played.updates
               if update.kind == "started" and update.event.type == "motion"}
    spec = played.clip.spec
    last = spec.frame_count - 1
    for mover, onset in first_frames(played.truth, MIN_OBJECT * spec.width * spec.height).items():
        t0 = onset / spec.fps
        if t0 + ONSET_SECONDS > last / spec.fps:
            continue
        result.objects += 1
        hit = False
        for index in range(onset, min(last, onset + round(ONSET_SECONDS * spec.fps)) + 1):
            t = index / spec.fps
            obs = played.motion.get(t)
            truth_box = next((box for m, box in truth[index] if m == mover), None)
            if obs is None or truth_box is None or not any(_overlap(box, truth_box) for box in obs.boxes):
                continue
            if any(start <= t and started.get(start, math.inf) <= t0 + ONSET_SECONDS
                   for start, end in motion_events if end is None or end >= t):
                hit = True
                break
        result.found += hit
        if not hit:
            result.missed.append(f"{played.clip.name}: mover {mover} at {t0:.2f}")


def scored(clips: list[Clip], frames: dict[str, Iterable[WorkFrame]], every: int = 1,
           max_fps: float | None = None, detector: Detector | None = None) -> Score:
    """The clips played together (`play`) and scored together."""
    total = Score()
    for played in play(clips, frames, every, max_fps, detector):
        total.add(score(played))
    return total


def scenario_scores(name: str, cache: Path | None = None, everies: tuple[int, ...] = (1,), fps: int = FPS,
                    max_fps: float | None = None, draw: int = 0) -> dict[int, Score]:
    """A scenario (its work frames kept in `cache`, if given), rendered at `fps` (its weather drawn again: `draw`),
    scored with every n-th frame played, for each n in `everies`: at 15 fps, 1 is every frame and 2 is 7.5 fps (a
    sub stream set lower); of those the bank gets about `max_fps` a second (default: what the decoder tap hands
    it). Rendered once."""
    clips = redrawn(at_rate(SCENARIOS[name](), fps), draw)
    frames = work_frames(clips, cache)
    if len(everies) > 1:
        frames = {name: list(work) for name, work in frames.items()}
    return {every: scored(clips, frames, every, max_fps) for every in everies}


def quality(names: list[str], cache: Path | None = None, missed: bool = False, every: int = 1, fps: int = FPS,
            max_fps: float | None = None, draw: int = 0) -> dict[str, dict[str, object]]:
    """The quality table: per scenario, recall, false alarms per hour, tamper recall and delay (and, with
    `missed`, what was missed and what was false), rendered and played as `scenario_scores` says."""
    scores = {name: scenario_scores(name, cache, (every,), fps, max_fps, draw)[every] for name in names}
    return {name: result.table() | ({"missed": result.missed} if missed else {}) for name, result in scores.items()}


def add_clip_arguments(parser: argparse.ArgumentParser) -> None:
    """`--fps` (the rate the clips are rendered at), `--max-fps` (how many of their frames are analysed) and `--draw`
    (their weather drawn again)."""
    parser.add_argument("--fps", type=positive(int), default=FPS, help=f"render the clips at this rate (default {FPS})")
    parser.add_argument("--max-fps", type=positive(float), metavar="N",
                        help="analyse about N frames a second (default: as the decoder tap, at most 15)")
    parser.add_argument("--draw", type=int, choices=range(100), default=0, metavar="K",
                        help="draw the weather again from other seeds: other drops, flakes, waves, gusts and jitter "
                             "(0-99; default 0: the corpus as it is)")


def positive(kind: Callable[[str], float]) -> Callable[[str], float]:
    """An argparse type: a number of `kind` above 0."""
    def parse(text: str) -> float:
        number = kind(text)
        if number <= 0:
            raise argparse.ArgumentTypeError(f"must be positive, not {text}")
        return number
    return parse


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scenario", action="append", choices=sorted(SCENARIOS), help="default: all")
    parser.add_argument("--cache", type=Path, help="keep the clips' work frames in this directory")
    parser.add_argument("--missed", action="store_true", help="list the objects missed and the false alarms")
    parser.add_argument("--every", type=positive(int), default=1, metavar="N",
                        help="play every N-th frame (2: 7.5 fps, 3: 5 fps; default 1: 15 fps)")
    add_clip_arguments(parser)
    arguments = parser.parse_args()
    started = time.process_time()
    table = quality(arguments.scenario or list(SCENARIOS), arguments.cache, arguments.missed, arguments.every,
                    arguments.fps, arguments.max_fps, arguments.draw)
    print(json.dumps({"quality": table, "cpu_seconds": round(time.process_time() - started, 1)}))


if __name__ == "__main__":
    main()
