"""Events from observations: per camera and type, a state machine with minimum duration and gap merging.

Fed with the bank's Observations in time order, it reports updates as they happen: `started` when an
event is confirmed (its `start` is the first observation that showed it), `updated` when it reaches a
clearly higher peak (a better frame for the snapshot: `best_t`), `ended` when it has been quiet for
longer than its gap (`end` is the last observation that showed it). Mode switches are instants:
`started` and `ended` together. Video loss starts at the last frame and ends at the next one.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal, get_args

from detect.observation import Box, Observation

# the last two are the station's alerts (nvr/camera_alerts.py): a camera offline, or tampered with, for too long
EventType = Literal["motion", "night_mode", "day_mode", "tamper_covered", "tamper_moved", "tamper_defocus",
                    "video_loss", "camera_offline", "camera_tampered"]
EVENT_TYPES: tuple[str, ...] = get_args(EventType)
UpdateKind = Literal["started", "updated", "ended"]


@dataclass(frozen=True)
class Event:
    camera: str
    type: EventType
    start: float
    end: float | None  # None while it lasts
    score: float  # peak score
    boxes: tuple[Box, ...]  # at the peak
    best_t: float  # time of the peak frame: the snapshot to keep
    clip_start: float  # start minus the pre-roll: footage worth keeping with the event
    clip_end: float | None  # end plus the post-roll


@dataclass(frozen=True)
class EventUpdate:
    kind: UpdateKind
    event: Event


@dataclass(frozen=True)
class EventPolicy:
    motion_min_seconds: float = 0.0  # motion lasting less than this is no event (the bank already
    motion_gap_seconds: float = 3.0  # requires persistence); quieter spells shorter than the gap merge
    motion_max_seconds: float = 600.0  # longer motion is cut into events of at most this long
    tamper_min_seconds: float = 1.0
    tamper_gap_seconds: float = 3.0
    pre_roll_seconds: float = 5.0
    post_roll_seconds: float = 5.0
    peak_step: float = 0.05  # a new peak must beat the last reported one by this much


class _Interval:
    """One event type of one camera: a signal that must hold `minimum` s and may pause up to `gap` s."""

    def __init__(self, camera: str, type_: EventType, minimum: float, gap: float, longest: float,
                 policy: EventPolicy) -> None:
        self._camera, self._type, self._policy = camera, type_, policy
        self._minimum, self._gap, self._longest = minimum, gap, longest
        self._first: float | None = None  # first active time of the current spell or event
        self._last = 0.0  # last active time
        self._event: Event | None = None  # the open (reported) event
        self._candidate: tuple[float, tuple[Box, ...], float] = (0.0, (), 0.0)  # best so far before it opens

    def feed(self, t: float, active: bool, score: float = 1.0, boxes: tuple[Box, ...] = ()) -> list[EventUpdate]:
        updates = self._expire(t)
        if not active:
            return updates
        if self._first is None:
            self._first = t
            self._candidate = (score, boxes, t)
        self._last = t
        event = self._event
        if event is None:
            if score > self._candidate[0]:
                self._candidate = (score, boxes, t)
            if t - self._first >= self._minimum:
                peak, peak_boxes, best = self._candidate
                self._event = Event(self._camera, self._type, self._first, None, peak, peak_boxes, best,
                                    self._first - self._policy.pre_roll_seconds, None)
                updates.append(EventUpdate("started", self._event))
        elif score >= event.score + self._policy.peak_step:
            self._event = dataclasses.replace(event, score=score, boxes=boxes, best_t=t)
            updates.append(EventUpdate("updated", self._event))
        if self._event is not None and t - self._event.start >= self._longest:
            updates += self.close(t)
        return updates

    def close(self, t: float | None = None) -> list[EventUpdate]:
        """End what is open (at the last active time, or `t` if given and earlier); forget a pending spell."""
        event, self._event, self._first = self._event, None, None
        if event is None:
            return []
        end = self._last if t is None else min(self._last, t)
        ended = dataclasses.replace(event, end=end, clip_end=end + self._policy.post_roll_seconds)
        return [EventUpdate("ended", ended)]

    def _expire(self, t: float) -> list[EventUpdate]:
        """End the spell or event once quiet for longer than the gap, or once the time stepped back by more than the
        gap (the station's clock set right: waiting for it to pass the last active time again held an alarm, or kept
        a new one from opening, for as long as the step)."""
        if self._first is None or abs(t - self._last) <= self._gap:
            return []
        if self._event is None:
            self._first = None
            return []
        return self.close()


class CameraEvents:
    """All event types of one camera."""

    def __init__(self, camera: str, policy: EventPolicy) -> None:
        self.camera, self._policy = camera, policy
        p = policy
        self._motion = _Interval(camera, "motion", p.motion_min_seconds, p.motion_gap_seconds, p.motion_max_seconds, p)
        self._tamper = {name: _Interval(camera, name, p.tamper_min_seconds, p.tamper_gap_seconds, float("inf"), p)
                        for name in ("tamper_covered", "tamper_moved", "tamper_defocus")}
        self._loss: Event | None = None

    def feed(self, obs: Observation) -> list[EventUpdate]:
        if obs.video_loss:
            return self._lost(obs)
        updates = self._found(obs.t)
        if obs.mode_changed:
            kind: EventType = "night_mode" if obs.is_ir else "day_mode"
            instant = Event(self.camera, kind, obs.t, obs.t, 1.0, (), obs.t, obs.t - self._policy.pre_roll_seconds,
                            obs.t + self._policy.post_roll_seconds)
            updates += [EventUpdate("started", dataclasses.replace(instant, end=None, clip_end=None)),
                        EventUpdate("ended", instant)]
        updates += self._motion.feed(obs.t, obs.motion, obs.score, obs.boxes)
        for name, active in (("tamper_covered", obs.covered), ("tamper_moved", obs.moved),
                             ("tamper_defocus", obs.defocused)):
            updates += self._tamper[name].feed(obs.t, active)
        return updates

    def close(self, t: float) -> list[EventUpdate]:
        """End everything open (end of a file, camera removed)."""
        updates = self._found(t)
        for interval in (self._motion, *self._tamper.values()):
            updates += interval.close()
        return updates

    def _lost(self, obs: Observation) -> list[EventUpdate]:
        if self._loss is not None:
            return []
        updates = [u for interval in (self._motion, *self._tamper.values()) for u in interval.close(obs.t)]
        self._loss = Event(self.camera, "video_loss", obs.t, None, 1.0, (), obs.t,
                           obs.t - self._policy.pre_roll_seconds, None)
        return [*updates, EventUpdate("started", self._loss)]

    def _found(self, t: float) -> list[EventUpdate]:
        if self._loss is None:
            return []
        ended = dataclasses.replace(self._loss, end=t, clip_end=t + self._policy.post_roll_seconds)
        self._loss = None
        return [EventUpdate("ended", ended)]


class EventMachine:
    """Events of every camera, fed with the bank's observations tick after tick."""

    def __init__(self, policy: EventPolicy | None = None) -> None:
        self.policy = policy or EventPolicy()
        self._cameras: dict[str, CameraEvents] = {}

    def feed(self, observations: Iterable[Observation]) -> list[EventUpdate]:
        updates = []
        for obs in observations:
            camera = self._cameras.get(obs.camera)
            if camera is None:
                camera = self._cameras[obs.camera] = CameraEvents(obs.camera, self.policy)
            updates += camera.feed(obs)
        return updates

    def close(self, camera: str, t: float) -> list[EventUpdate]:
        """End what `camera` has open and forget it."""
        events = self._cameras.pop(camera, None)
        return events.close(t) if events else []

    def close_all(self, t: float) -> list[EventUpdate]:
        return [update for name in list(self._cameras) for update in self.close(name, t)]
