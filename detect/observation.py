"""What the bank reports for one camera at one frame (or at a tick, for a camera that went silent)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import NamedTuple

Box = tuple[float, float, float, float]  # normalized x, y, width, height
BOX_DECIMALS = 4  # 1/10 000 of the picture: under half a pixel even at 4K


def rounded(boxes: Iterable[Box]) -> list[list[float]]:
    """Boxes as they are stored and printed (the bank leaves them unrounded: most are never kept)."""
    return [[round(value, BOX_DECIMALS) for value in box] for box in boxes]


class Observation(NamedTuple):
    """One camera at time `t` (seconds, the frame's time; for `video_loss`, the last frame's time).

    `score` (0..1) and `boxes` describe confirmed moving regions after zones and masks; no boxes, no
    motion. `global_change`: most of the picture changed at once (light switch, exposure, mode
    switch); motion is not reported for it. `mode_changed`: the colour/IR mode switched at `t`.
    `covered`, `moved`, `defocused`: the tamper checks of the latest upkeep (held between them).
    `raining`: rain or snow is taken out of its pictures (`detect.particles`); `shaking`: its picture shook in the
    last few seconds and is moved back onto its background (`detect.shake`).
    A tuple, not a dataclass: the bank makes one per camera per frame, and a frozen dataclass costs
    six times as much to build (3 µs against 0.45).
    """

    camera: str
    t: float
    score: float = 0.0
    boxes: tuple[Box, ...] = ()
    is_ir: bool = False
    mode_changed: bool = False
    global_change: bool = False
    covered: bool = False
    moved: bool = False
    defocused: bool = False
    video_loss: bool = False
    raining: bool = False
    shaking: bool = False

    @property
    def motion(self) -> bool:
        return bool(self.boxes)
