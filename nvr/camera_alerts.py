"""Alerts for a camera offline, or covered, turned away or defocused, for longer than `alerts` allows.

An alert is an event (`camera_offline`, `camera_tampered`) handed to the event writer like detection's, so
whatever follows events (the index, the screen's WebSocket, MQTT and webhooks built on them) carries it.
One event per episode: it starts when the camera went bad (it appears once the episode has lasted the
configured time) and ends when the camera is back. A camera must stay good for `SETTLE_SECONDS` before the
episode ends, so one that flaps (back for a second, gone again) raises one alert, not one per flap.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, replace

from detect.events import Event, EventPolicy, EventType, EventUpdate
from detect.observation import Observation
from nvr.runtime.messages import CameraReport

log = logging.getLogger(__name__)
CHECK_SECONDS = 1.0
SETTLE_SECONDS = 5.0


@dataclass(frozen=True)
class CameraState:
    """Since when (UTC seconds) a camera is offline / tampered with; None: it is not."""

    offline_since: float | None
    tampered_since: float | None


def camera_state(report: CameraReport | None, seen: Observation | None) -> CameraState | None:
    """A running camera's state from its recorder's report and detection's newest observation; None while its
    recorder process is (re)starting and nothing is known (a recorder takes a second or more to start)."""
    if report is None:
        return None
    tampered = seen is not None and (seen.covered or seen.moved or seen.defocused)
    return CameraState(None if report.record.state == "online" else report.record.since,
                       seen.t if seen is not None and tampered else None)


@dataclass
class _Episode:
    start: float  # when the camera went bad, as the clock said then (the alert's start) ...
    counted_from: float  # ... and on the steady clock (how long it has lasted is counted from this)
    back: tuple[float, float] | None = None  # the camera is back since then: as the clock said (the alert's end),
    # and on the steady clock
    alert: Event | None = None


class AlertRules:
    """Decides, from the cameras' states checked over time, when alerts start and end."""

    def __init__(self, limits: dict[EventType, float], policy: EventPolicy) -> None:
        self._limits = limits  # alert type -> seconds the camera may be in that state before it
        self._policy = policy
        self._episodes: dict[tuple[str, EventType], _Episode] = {}

    def check(self, now: float, steady: float, states: dict[str, CameraState | None]) -> list[EventUpdate]:
        """`now` as the station's clock says, `steady` on a clock that is never set (`time.monotonic()`): durations
        are counted on it. On the station's clock, a step back (a clock that ran ahead, set right) delayed an alert or
        its end for as long as the step, and a step forward raised an alert at once (an audit: a tampering of 13 s
        alerted as lasting an hour). `states`: every camera being recorded (None: not known now, nothing changes); an
        episode of a camera no longer there ends now."""
        updates: list[EventUpdate] = []
        for camera, state in states.items():
            if state is None:
                continue
            for kind, since in (("camera_offline", state.offline_since), ("camera_tampered", state.tampered_since)):
                if kind in self._limits:
                    updates += self._follow(camera, kind, since, now, steady)
        for camera, kind in [key for key in self._episodes if key[0] not in states]:
            updates += self._end(camera, kind, now)
        return updates

    def close(self, now: float) -> list[EventUpdate]:
        """End every alert (the station stops)."""
        return [update for camera, kind in list(self._episodes) for update in self._end(camera, kind, now)]

    def _follow(self, camera: str, kind: EventType, since: float | None, now: float, steady: float
                ) -> list[EventUpdate]:
        """`now` as the station's clock says, `steady` on the clock that is never set."""
        episode = self._episodes.get((camera, kind))
        if since is None:
            if episode is None:
                return []
            episode.back = episode.back or (now, steady)
            good_since, settle_from = episode.back
            return self._end(camera, kind, good_since) if steady - settle_from >= SETTLE_SECONDS else []
        if episode is None:
            began = min(since, now)
            episode = self._episodes[(camera, kind)] = _Episode(began, steady - (now - began))
        episode.back = None
        if episode.alert is not None or steady - episode.counted_from < self._limits[kind]:
            return []
        episode.alert = Event(camera, kind, episode.start, None, 1.0, (), now,
                              episode.start - self._policy.pre_roll_seconds, None)
        log.warning("%s: %s for %.0f s: alert", camera, kind, steady - episode.counted_from)
        return [EventUpdate("started", episode.alert)]

    def _end(self, camera: str, kind: EventType, end: float) -> list[EventUpdate]:
        episode = self._episodes.pop((camera, kind))
        if episode.alert is None:
            return []
        log.info("%s: %s ended", camera, kind)
        return [EventUpdate("ended", replace(episode.alert, end=end, clip_end=end + self._policy.post_roll_seconds))]


class AlertWatch:
    """Checks every camera once a second, in a thread of its own; alerts go to `emit` (the event writer)."""

    def __init__(self, rules: AlertRules, states: Callable[[], dict[str, CameraState | None]],
                 emit: Callable[[list[EventUpdate]], None]) -> None:
        self._rules = rules
        self._states = states
        self._emit = emit
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="camera-alerts", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        """Stop checking; alerts still open end now."""
        self._stop.set()
        self._thread.join(timeout=5)
        self._emit(self._rules.close(time.time()))

    def _run(self) -> None:
        while not self._stop.wait(CHECK_SECONDS):
            try:
                self._emit(self._rules.check(time.time(), time.monotonic(), self._states()))
            except Exception:  # a bug must not end the alerts for good
                log.exception("camera alerts: check failed; going on")
