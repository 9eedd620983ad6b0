"""Pictures of every camera to events: the detector bank and the event machine.

The detector process (`nvr.runtime.detector_process`) and `nvr analyze` both run this; they differ only in where the
pictures come from (shared memory, or a decoder tap on the file), in what drives `tick`, and in where the event
updates go. It imports no decoder: the detector process starts with every station (and every test's).
"""

from __future__ import annotations

import threading

import numpy as np

from detect.bank import DetectorBank
from detect.events import EventMachine, EventPolicy, EventUpdate
from detect.motion_grid import MotionSecond
from detect.observation import Observation
from detect.settings import BankSettings, CameraDetectSettings


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

    def submit(self, name: str, y: np.ndarray, chroma: tuple[np.ndarray, np.ndarray] | None, t: float) -> None:
        """A picture of `name` (any size; reduced to the work size at once), from any thread."""
        self.bank.submit(name, y, chroma, t)

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
