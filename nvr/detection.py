"""Frames of every camera to events: decoder taps, the detector bank and the event machine.

Live detection (`nvr.live_detection`) and `nvr analyze` both run this; they differ only in where the
packets come from, in what drives `tick`, and in where the event updates go.
"""

from __future__ import annotations

import threading

import av
import numpy as np

from detect.bank import DetectorBank
from detect.events import EventMachine, EventPolicy, EventUpdate
from detect.motion_grid import MotionSecond
from detect.observation import Observation
from detect.settings import BankSettings, CameraDetectSettings
from ingest.frame_tap import Chroma, FrameTap, detection_tap


class DetectionPipeline:
    """One detector bank for all cameras; `tick` from one thread, frames from any."""

    def __init__(self, bank_settings: BankSettings | None = None, policy: EventPolicy | None = None) -> None:
        self.bank = DetectorBank(bank_settings)
        self.machine = EventMachine(policy)
        self.observed: dict[str, Observation] = {}  # each camera's newest observation (mode, tamper)
        self._lock = threading.Lock()

    def watch(self, name: str, settings: CameraDetectSettings) -> None:
        """Watch `name`, whose pictures come through `submit`."""
        self.bank.add_camera(name, settings)

    def submit(self, name: str, y: np.ndarray, chroma: Chroma | None, t: float) -> None:
        """A picture of `name` (any size; reduced to the work size at once), from any thread."""
        self.bank.submit(name, y, chroma, t)

    def add_camera(self, name: str, settings: CameraDetectSettings) -> FrameTap:
        """Watch `name`; returns the packet sink that decodes its detect stream into the bank."""
        self.watch(name, settings)

        def on_frame(y: np.ndarray, chroma: Chroma, t: float, _frame: av.VideoFrame) -> None:
            self.bank.submit(name, y, chroma, t)

        return detection_tap(on_frame, settings)

    def tick(self, now: float) -> list[EventUpdate]:
        """Process the frames that arrived since the last tick; `now` (same clock as the frames) finds
        cameras that went silent."""
        with self._lock:
            observations = self.bank.tick(now)
            for observation in observations:
                self.observed[observation.camera] = observation
            return self.machine.feed(observations)

    def forget(self, name: str) -> None:
        """Stop watching `name`, and drop what was last seen of it (its mode, tamper and weather)."""
        with self._lock:
            self.bank.remove_camera(name)
            self.observed.pop(name, None)

    def motion_seconds(self) -> list[MotionSecond]:
        """Where each camera saw motion, per second, for the seconds finished since the last call."""
        return self.bank.motion_seconds()

    def close(self, t: float) -> list[EventUpdate]:
        """End every open event and motion second (shutdown, end of a file)."""
        with self._lock:
            self.bank.finish_seconds()
            return self.machine.close_all(t)
