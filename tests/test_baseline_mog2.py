"""The MOG2 yardstick (scripts/baseline_mog2.py): played and scored by the corpus' own rules, in place of the bank."""

from __future__ import annotations

import numpy as np

from detect.observation import Observation
from detect.settings import CameraDetectSettings
from scripts.baseline_mog2 import Mog2Detector
from scripts.make_detect_corpus import Clip, _spec, play, score, work_frames

SECONDS = 20.0


def street(movers: int, masked: bool = False) -> Clip:
    """A short day crossroad with `movers` people and motorbikes; `masked`: the whole picture masked."""
    whole = ((0.0, 0.0), (1.0, 0.0), (1.0, 1.0), (0.0, 1.0))
    settings = CameraDetectSettings(masks=(whole,)) if masked else CameraDetectSettings()
    return Clip(f"street-{movers}-{masked}", _spec(31, "crossroad", SECONDS, movers=movers), settings)


def test_the_baseline_finds_movers_and_keeps_quiet_on_an_empty_street() -> None:
    busy, empty = street(16), street(0)
    played = play([busy, empty], work_frames([busy, empty]), detector=Mog2Detector())
    found, quiet = (score(p) for p in played)
    assert found.objects >= 8
    assert found.recall is not None and found.recall >= 0.8
    assert quiet.false_alarms == 0 and not played[1].motion


def test_the_baseline_honours_the_cameras_masks() -> None:
    clip = street(6, masked=True)
    [played] = play([clip], work_frames([clip]), detector=Mog2Detector())
    assert not played.motion


def test_the_baseline_reports_a_blob_seen_in_every_frame_for_its_persistence_with_its_box() -> None:
    """A grey picture learnt, then a bright 12x10 block for one frame, gone, back for four frames: motion from the
    block's third frame in a row (0.13 s at 15 fps), with its box as (x, y, width, height) of the picture."""
    detector = Mog2Detector()
    detector.add_camera("c", CameraDetectSettings())
    grey = np.full((90, 160), 100, np.uint8)
    block = grey.copy()
    block[30:40, 50:62] = 220
    pictures = [grey] * 30 + [block] + [grey] * 5 + [block] * 4
    reported = []
    for index, picture in enumerate(pictures):
        detector.submit("c", picture, None, index / 15)
        [observation] = detector.tick(index / 15)
        reported.append(observation.boxes)
    assert not any(reported[:38])  # a blip, and the first two frames of the block's return
    assert reported[38] == reported[39] == ((50 / 160, 30 / 90, 12 / 160, 10 / 90),)


class Recording(Mog2Detector):
    """The baseline, counting the frames it was handed."""

    def __init__(self) -> None:
        super().__init__()
        self.submitted = 0

    def submit(self, name: str, y: np.ndarray, chroma: tuple[np.ndarray, np.ndarray] | None, t: float) -> None:
        self.submitted += 1
        super().submit(name, y, chroma, t)

    def tick(self, now: float) -> list[Observation]:
        observations = super().tick(now)
        assert all(obs.score == 1.0 for obs in observations if obs.boxes)  # the baseline's, not the bank's scores
        return observations


def test_play_runs_the_clips_through_the_detector_it_is_given() -> None:
    clip = street(2)
    detector = Recording()
    [played] = play([clip], work_frames([clip]), detector=detector)
    assert detector.submitted == played.frames == round(SECONDS * clip.spec.fps)
