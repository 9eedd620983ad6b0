"""What recorder processes and the station process say to each other over their socket."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from ingest.live_units import AudioChunk, EncodedFrame
from ingest.status import StatusSnapshot
from nvr.runtime.folder_key import folder_key
from storage.index import Segment


def recorder_address(data_dir: Path, shard: int) -> str:
    """An abstract-namespace Unix socket (no file to clean up, no path-length limit), one per data folder
    and shard; connections are authenticated with the station's key."""
    return f"\0station-nvr/{folder_key(data_dir)}/recorder-{shard}"


def work_table_name(data_dir: Path, shard: int) -> str:
    """The shard's work-picture file: the same for a restarted recorder, which takes it over."""
    return f"station-nvr-{folder_key(data_dir)}-{shard}.work"


# recorder -> station

@dataclass(frozen=True)
class Hello:
    shard: int
    pid: int
    slots: dict[str, int]  # camera -> its slot in the work-picture table
    table_path: str
    table_slots: int
    work_size: tuple[int, int]


@dataclass(frozen=True)
class Slots:
    """The recorder's cameras changed: camera -> slot, for every camera it reads now."""

    slots: dict[str, int]


@dataclass(frozen=True)
class CameraReport:
    camera: str
    record: StatusSnapshot
    detect: StatusSnapshot | None  # the sub stream, when it is a separate one
    recording_error: str | None
    in_progress: Segment | None  # the segment being written
    unindexed: tuple[Segment, ...]  # finished (or being closed) and not in the catalog yet
    segments_written: int  # finished segments and their bytes, since the recorder process started
    bytes_written: int


@dataclass(frozen=True)
class Reports:
    cameras: list[CameraReport]


@dataclass(frozen=True)
class LiveData:
    camera: str
    role: str
    frame: EncodedFrame


@dataclass(frozen=True)
class LiveAudio:
    camera: str
    role: str
    chunk: AudioChunk


@dataclass(frozen=True)
class LiveReset:
    """The stream restarted: what the viewers hold no longer continues."""

    camera: str
    role: str


@dataclass(frozen=True)
class SnapshotReply:
    request: int
    jpeg: bytes | None


# station -> recorder

@dataclass(frozen=True)
class Watch:
    camera: str
    role: str
    on: bool  # send the stream's frames
    sound: bool = False  # and its audio


@dataclass(frozen=True)
class Reload:
    """Read the camera list again: one was added, changed or removed."""


@dataclass(frozen=True)
class SnapshotRequest:
    request: int
    camera: str
