"""Detection settings: per camera (zones, masks, sensitivity, size, overlay, rate) and bank-wide.

Polygons are in normalized image coordinates: (x, y) with 0..1 across and 0..1 down, whatever the
camera's resolution. The config file maps onto these dataclasses; they validate themselves.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Point = tuple[float, float]
Polygon = tuple[Point, ...]
Overlay = Literal["auto", "off"] | tuple[Polygon, ...]

SENSITIVITY_LEVELS: dict[str, float] = {"low": 0.25, "medium": 0.5, "high": 0.75}
TUNED_FPS = 15  # the detector's rules were tuned at this frame rate: a faster camera is analysed at about this rate


def polygons_problem(what: str, polygons: tuple[Polygon, ...]) -> str | None:
    """What is wrong with the polygons of setting `what`, or None."""
    for polygon in polygons:
        if len(polygon) < 3:
            return f"{what}: a polygon needs at least 3 points, not {len(polygon)}"
        if any(not (0.0 <= x <= 1.0 and 0.0 <= y <= 1.0) for x, y in polygon):
            return f"{what}: polygon points must be normalized to 0..1, got {polygon}"
    return None


@dataclass(frozen=True)
class CameraDetectSettings:
    """How one camera is watched.

    `zones`: detect only inside these polygons (empty: the whole picture). `masks`: never inside these.
    `overlay`: the camera's burnt-in clock/name: "auto" (learnt from what changes like text in a
    border band), "off", or explicit polygons (masked). `min_object_size` is a fraction of the frame
    area. `max_fps` and `keyframes_only` are for the decoder tap (`ingest.frame_tap`), which hands the
    bank only those frames (`analysed_fps`); the bank adapts to whatever rate it gets.
    """

    zones: tuple[Polygon, ...] = ()
    masks: tuple[Polygon, ...] = ()
    sensitivity: float | Literal["low", "medium", "high"] = "medium"
    min_object_size: float = 0.003
    overlay: Overlay = "auto"
    max_fps: float | None = None
    keyframes_only: bool = False
    tamper: bool = True

    def __post_init__(self) -> None:
        problems = self.problems()
        if problems:  # every one at once: an installer fixing one a run went round three times (found in review)
            raise ValueError("; ".join(problems))

    def problems(self) -> list[str]:
        """What is wrong with these settings, each naming its setting (empty: nothing)."""
        drawn = [("zones", self.zones), ("masks", self.masks)]
        if not isinstance(self.overlay, str):
            drawn.append(("overlay", self.overlay))
        found = [problem for what, polygons in drawn if (problem := polygons_problem(what, polygons))]
        if isinstance(self.overlay, str) and self.overlay not in ("auto", "off"):
            found.append(f"overlay must be 'auto', 'off' or polygons, not {self.overlay!r}")
        if isinstance(self.sensitivity, str):
            if self.sensitivity not in SENSITIVITY_LEVELS:
                found.append(f"sensitivity must be one of {', '.join(SENSITIVITY_LEVELS)} or 0..1")
        elif not 0.0 <= self.sensitivity <= 1.0:
            found.append(f"sensitivity must be within 0..1, not {self.sensitivity}")
        if not 0.0 < self.min_object_size < 0.5:
            found.append(f"min_object_size is a fraction of the frame, not {self.min_object_size}")
        if self.max_fps is not None and self.max_fps <= 0:
            found.append("max_fps must be positive")
        return found

    @property
    def analysed_fps(self) -> float:
        """At most how many frames a second the bank gets: `max_fps`, or TUNED_FPS when it is not set (a 25 or
        30 fps camera analysed at every frame raised more false alarms in the corpus, and costs twice as much:
        design/detection_frame_rate.md)."""
        return self.max_fps or TUNED_FPS

    @property
    def level(self) -> float:
        """Sensitivity as a number in 0..1 (higher: smaller differences count as motion)."""
        if isinstance(self.sensitivity, str):
            return SENSITIVITY_LEVELS[self.sensitivity]
        return float(self.sensitivity)


@dataclass(frozen=True)
class BankSettings:
    """Settings shared by every camera of a bank.

    `work_size` (width, height): every frame is reduced to this by 2x box averaging (an exact 4x4
    average from 640x360 sub streams: 13-26 µs, and a quarter of the sensor noise), so all cameras
    stack into one array. Times are seconds of frame time.
    """

    work_size: tuple[int, int] = (160, 90)
    background_seconds: float = 4.0  # time constant of the background where nothing moves
    absorb_seconds: float = 30.0  # something that stopped moving becomes background after about this
    housekeeping_seconds: float = 0.5  # noise, tamper and overlay upkeep per camera, this often
    persist_seconds: float = 0.12  # a moving region must last this long (day) before it counts
    persist_seconds_ir: float = 0.2  # ... and this long at night (IR noise, insects, rain near the lens)
    persist_seconds_rain: float = 0.33  # ... and this long in rain or snow (clusters of drops and flakes)
    mode_confirm_seconds: float = 0.5  # colour/IR must hold this long to be reported as a mode switch
    settle_seconds: float = 0.2  # no motion this long after the first frame or a mode change (detection follows
    # the frames' mode at once): the background is rebuilt and the mode's noise learnt meanwhile
    video_loss_seconds: float = 5.0  # no frame for this long: video lost
    reference_seconds: float = 120.0  # time constant of the tamper reference (the camera's usual view)

    def __post_init__(self) -> None:
        width, height = self.work_size
        if width < 32 or height < 18:
            raise ValueError(f"work_size {self.work_size} is too small")
