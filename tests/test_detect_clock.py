"""The station's clock stepping back (NTP setting right a clock that ran ahead): detection goes on, and reports
the frames' own times (detect/bank.py, `DetectorBank._times`)."""

from __future__ import annotations

import numpy as np

from detect.bank import DetectorBank
from detect.observation import Observation
from detect.settings import CameraDetectSettings

AHEAD = 10_000.0  # s: the clock ran 2.8 hours ahead until NTP stepped it back


class Street:
    """One camera's noisy picture, a bright block crossing it when asked; the bank that watches it."""

    def __init__(self) -> None:
        self.bank = DetectorBank()
        self.bank.add_camera("c", CameraDetectSettings())
        self.rng = np.random.default_rng(0)
        self.scene = self.rng.integers(90, 110, (90, 160), dtype=np.uint8)

    def play(self, start: float, frames: int, crossing: bool = False) -> list[Observation]:
        observations = []
        for i in range(frames):
            picture = self.scene + self.rng.integers(0, 3, self.scene.shape, dtype=np.uint8)
            if crossing:
                left = 10 + 2 * i
                picture[30:50, left:left + 12] = 230
            t = start + i / 15
            self.bank.submit("c", picture, None, t)
            observations += self.bank.tick(t)
        return observations


def test_motion_is_found_after_the_station_clock_steps_back() -> None:
    street = Street()
    street.play(AHEAD, 60)
    street.play(100.0, 30)  # the clock stepped back by AHEAD - 100 s
    observations = street.play(102.0, 60, crossing=True)
    moving = [obs for obs in observations if obs.boxes]
    assert len(moving) >= 50  # before: none, the camera's settle held until the clock came back to AHEAD
    assert all(102.0 <= obs.t < 106.0 for obs in observations)  # reported at the frames' own times
    seconds = {second.second for second in street.bank.motion_seconds()}
    assert seconds and seconds <= set(range(102, 107))  # the motion index too


def test_a_camera_that_stops_after_the_clock_stepped_back_is_lost_in_time() -> None:
    street = Street()
    street.play(AHEAD, 60)
    street.play(100.0, 30)
    assert not [obs for obs in street.bank.tick(103.0) if obs.video_loss]
    lost = [obs for obs in street.bank.tick(108.0) if obs.video_loss]
    assert [obs.t for obs in lost] == [100.0 + 29 / 15]


def test_a_camera_whose_frames_keep_the_old_clock_is_lost_in_time_by_the_new_one() -> None:
    """A camera's frames follow a step of the station's clock only once it reconnects (their stamps count on from the
    connection's start, `ingest/clock.py`); the bank's `now` follows it at once. A camera that stops then is lost 5 s
    later by the clock as it is now, reported at its last frame's own time."""
    street = Street()
    frames = street.play(AHEAD, 60)
    assert frames and not any(obs.video_loss for obs in frames)
    assert not [obs for obs in street.bank.tick(100.0) if obs.video_loss]  # the clock stepped back; no frame since
    assert not [obs for obs in street.bank.tick(103.0) if obs.video_loss]
    lost = [obs for obs in street.bank.tick(106.0) if obs.video_loss]
    assert [obs.t for obs in lost] == [AHEAD + 59 / 15]
