"""Frames of every camera to events: decoder taps, the detector bank and the event machine.

Live detection (`nvr.live_detection`) and `nvr analyze` both run this; they differ only in where the
packets come from, in what drives `tick`, and in where the event updates go.
"""

from __future__ import annotations

import threading

import av
import cv2
import numpy as np

from detect.bank import DetectorBank
from detect.events import EventMachine, EventPolicy, EventUpdate
from detect.observation import Observation
from detect.settings import BankSettings, CameraDetectSettings
from ingest.frame_tap import Chroma, FrameTap

SNAPSHOT_QUALITY = 85


class DetectionPipeline:
    """One detector bank for all cameras; `tick` from one thread, frames from any."""

    def __init__(self, bank_settings: BankSettings | None = None, policy: EventPolicy | None = None) -> None:
        self.bank = DetectorBank(bank_settings)
        self.machine = EventMachine(policy)
        self._latest: dict[str, av.VideoFrame] = {}  # each camera's newest frame, for snapshots
        self.observed: dict[str, Observation] = {}  # each camera's newest observation (mode, tamper)
        self._lock = threading.Lock()
        self._arrived = threading.Event()  # a frame came since the last tick

    def add_camera(self, name: str, settings: CameraDetectSettings) -> FrameTap:
        """Watch `name`; returns the packet sink that decodes its detect stream into the bank."""
        self.bank.add_camera(name, settings)

        def on_frame(y: np.ndarray, chroma: Chroma, t: float, frame: av.VideoFrame) -> None:
            self.bank.submit(name, y, chroma, t)
            self._latest[name] = frame
            self._arrived.set()

        return FrameTap(on_frame, max_fps=settings.max_fps, keyframes_only=settings.keyframes_only)

    def tick(self, now: float | None = None) -> list[EventUpdate]:
        """Process the frames that arrived since the last tick; `now` (same clock as the frames) finds
        cameras that went silent."""
        with self._lock:
            self._arrived.clear()
            observations = self.bank.tick(now)
            for observation in observations:
                self.observed[observation.camera] = observation
            return self.machine.feed(observations)

    def wait_for_frames(self, timeout: float) -> bool:
        """Block until a frame has arrived since the last tick or `wake` is called (True), or `timeout` has
        passed (False)."""
        return self._arrived.wait(timeout)

    def wake(self) -> None:
        """End a `wait_for_frames` now (shutdown)."""
        self._arrived.set()

    def close(self, t: float) -> list[EventUpdate]:
        """End every open event (shutdown, end of a file)."""
        with self._lock:
            return self.machine.close_all(t)

    def snapshot(self, name: str) -> bytes | None:
        """The camera's newest frame as a JPEG (None before its first frame)."""
        frame = self._latest.get(name)
        if frame is None:
            return None
        ok, encoded = cv2.imencode(".jpg", frame.to_ndarray(format="bgr24"),
                                   [cv2.IMWRITE_JPEG_QUALITY, SNAPSHOT_QUALITY])
        return encoded.tobytes() if ok else None
