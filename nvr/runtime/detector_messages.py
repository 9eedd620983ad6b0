"""What the station process and its detector process say to each other over their socket."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from detect.events import EventUpdate
from detect.motion_grid import MotionSecond
from detect.observation import Observation
from detect.settings import CameraDetectSettings
from nvr.runtime.folder_key import folder_key


def detector_address(data_dir: Path) -> str:
    """The detector's abstract-namespace Unix socket, one per data folder (as the recorders')."""
    return f"\0station-nvr/{folder_key(data_dir)}/detector"


# station -> detector

@dataclass(frozen=True)
class PictureTable:
    """Where one recorder puts its cameras' work pictures (`nvr.runtime.work_pictures`)."""

    path: str
    owner: int  # the recorder's pid: a restarted recorder makes its table anew
    slots: int
    work_size: tuple[int, int]
    cameras: dict[int, str]  # slot -> camera


@dataclass(frozen=True)
class Tables:
    """Every recorder's table, sent when one changes (a recorder restarted, its cameras changed)."""

    tables: tuple[PictureTable, ...]


@dataclass(frozen=True)
class DetectCamera:
    """Watch the camera with these settings (again, if they changed), or forget it (`settings` None)."""

    name: str
    settings: CameraDetectSettings | None


# detector -> station

@dataclass(frozen=True)
class Results:
    """What one or more ticks found."""

    updates: list[EventUpdate]
    motion: list[MotionSecond]
    observed: list[Observation]  # each camera's newest
    analysed: dict[str, int]  # pictures taken per camera
    tick_seconds: list[float]
