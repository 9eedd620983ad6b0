"""A plain background subtraction (OpenCV's MOG2) scored on the scenario corpus, as a yardstick for the bank.

Issue 15 compared the bank with MOG2 on real footage of weather: MOG2 stayed quiet in rain and on a shaking
camera where the bank then alarmed. Scored here by the same rules and event machine as the bank, on the same
work frames (160x90), rendered or through H.264 (`--coded`), it tells whether a target the bank misses is one a
textbook detector meets on the corpus, or whether the corpus' weather is that hard for both.

The baseline is the textbook pipeline, untuned: a MOG2 model per camera with OpenCV's defaults (500 frames of
history, a variance threshold of 16; no shadows: the work picture is luma), its mask opened with a 3x3 square,
the camera's masks and zones applied, blobs of as many pixels as the bank's smallest (`BLOB_FRACTION` of
`min_object_size`), and motion once blobs were seen in every frame for at least the bank's persistence by day
(`persist_seconds`, 0.12 s: the third frame at 15 fps, where the bank's tracks need two frames of change; the
baseline has one rule, day or night, rain or not).

    python scripts/baseline_mog2.py [--scenario NAME ...] [--cache .cache] [--coded] [--missed] [--fps N] [--max-fps N]
                                    [--draw K]

Prints one JSON line, as `make_detect_corpus.py` does.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from detect.bank import BLOB_FRACTION
from detect.frames import reduce_luma
from detect.masks import watched
from detect.observation import Box, Observation
from detect.settings import BankSettings, CameraDetectSettings
from scripts import corpus_through_h264 as through_h264
from scripts import make_detect_corpus as corpus

SQUARE = np.ones((3, 3), np.uint8)
RENDERED = "detect-corpus"  # under --cache, the rendered clips' work frames (the coded ones: under the coding's name)


@dataclass
class _Camera:
    model: cv2.BackgroundSubtractorMOG2
    watched: np.ndarray  # uint8 0/255: where motion may be detected
    min_pixels: int
    since: float | None = None  # when the frames in a row with blobs began
    frame: tuple[np.ndarray, float] | None = None  # the work picture submitted for the next tick, and its time


class Mog2Detector:
    """MOG2 per camera with the bank's interface (`make_detect_corpus.Detector`): motion and boxes only (no
    tamper, mode or loss reports)."""

    def __init__(self, settings: BankSettings | None = None) -> None:
        settings = settings or BankSettings()
        self._size, self._persist = settings.work_size, settings.persist_seconds
        self._cameras: dict[str, _Camera] = {}

    def add_camera(self, name: str, settings: CameraDetectSettings) -> None:
        width, height = self._size
        mask = watched(settings, self._size).astype(np.uint8) * 255
        least = max(3, round(BLOB_FRACTION * settings.min_object_size * width * height))
        self._cameras[name] = _Camera(cv2.createBackgroundSubtractorMOG2(detectShadows=False), mask, least)

    def remove_camera(self, name: str) -> None:
        self._cameras.pop(name, None)

    def submit(self, name: str, y: np.ndarray, chroma: tuple[np.ndarray, np.ndarray] | None, t: float) -> None:
        self._cameras[name].frame = (reduce_luma(y, self._size), t)

    def tick(self, now: float) -> list[Observation]:
        observations = []
        for name, camera in self._cameras.items():
            if camera.frame is None:
                continue
            picture, t = camera.frame
            camera.frame = None
            boxes = self._blobs(camera, picture)
            camera.since = (t if camera.since is None else camera.since) if boxes else None
            lasted = camera.since is not None and t - camera.since >= self._persist
            observations.append(Observation(name, t, 1.0, boxes) if lasted else Observation(name, t))
        return observations

    def _blobs(self, camera: _Camera, picture: np.ndarray) -> tuple[Box, ...]:
        foreground = camera.model.apply(picture)
        cv2.morphologyEx(foreground, cv2.MORPH_OPEN, SQUARE, dst=foreground)
        cv2.bitwise_and(foreground, camera.watched, dst=foreground)
        _, _, stats, _ = cv2.connectedComponentsWithStats(foreground)
        width, height = self._size
        return tuple((x / width, y / height, w / width, h / height)
                     for x, y, w, h, pixels in stats[1:].tolist() if pixels >= camera.min_pixels)


def quality(names: list[str], cache: Path | None, coded: bool, missed: bool, fps: int, max_fps: float | None,
            draw: int) -> dict[str, dict[str, object]]:
    """Per scenario, the corpus' quality row for the baseline (rendered, or `coded` at the H.264 script's bit
    rate)."""
    table = {}
    for name in names:
        clips = corpus.redrawn(corpus.at_rate(corpus.SCENARIOS[name](), fps), draw)
        if coded:
            clips = [through_h264.coded(clip) for clip in clips]
        kept = cache / (through_h264.coding_name() if coded else RENDERED) if cache else None
        frames = corpus.work_frames(clips, kept)
        total = corpus.scored(clips, frames, max_fps=max_fps, detector=Mog2Detector())
        table[name] = total.table() | ({"missed": total.missed} if missed else {})
    return table


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scenario", action="append", choices=sorted(corpus.SCENARIOS), help="default: all")
    parser.add_argument("--cache", type=Path,
                        help=f"keep the work frames under this directory (rendered: {RENDERED}/, coded: h264-*/)")
    parser.add_argument("--coded", action="store_true", help="through H.264, as corpus_through_h264.py plays them")
    parser.add_argument("--missed", action="store_true", help="list the objects missed and the false alarms")
    corpus.add_clip_arguments(parser)
    arguments = parser.parse_args()
    started = time.process_time()
    table = quality(arguments.scenario or list(corpus.SCENARIOS), arguments.cache, arguments.coded,
                    arguments.missed, arguments.fps, arguments.max_fps, arguments.draw)
    print(json.dumps({"baseline": "mog2", "coded": arguments.coded, "quality": table,
                      "cpu_seconds": round(time.process_time() - started, 1)}))


if __name__ == "__main__":
    main()
