"""What the detector bank gets of a corpus clip's frames, kept on disk so that a clip is rendered once.

The bank reduces every picture to its work size at once and samples its chroma on a small grid
(`detect.frames`); those two, the frame's time and its ground truth are all a clip's playing needs. Handing
the bank the reduced picture and the samples gives it exactly what the full picture would (the reduction of
a work-size picture is a copy, the samples of a sample grid the grid itself), at a hundredth of the
rendering's cost. A clip's file is named by a hash of its name and of the sources that draw and reduce it,
so any change to the scenes, the effects or the reduction renders it again.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, get_args

import numpy as np

from detect.frames import CHROMA_GRID, reduce_luma, sample_chroma
from ingest.demo.synthetic import Box, Frame
from ingest.demo.world import Kind

ROOT = Path(__file__).resolve().parent.parent
SOURCES = ("scripts/make_detect_corpus.py", "scripts/weather_effects.py", "detect/frames.py", "ingest/demo")


@dataclass(frozen=True)
class WorkFrame:
    """One frame as the bank gets it (`y` at work size, `chroma` a (2, *CHROMA_GRID) sample grid), or a frame
    the stream lost (`lost`: not handed over)."""

    time: float
    y: np.ndarray
    chroma: np.ndarray
    boxes: tuple[Box, ...]
    lost: bool


def reduced(frames: Iterable[tuple[Frame, bool]], size: tuple[int, int]) -> Iterator[WorkFrame]:
    """Rendered frames (and whether each is lost) as work frames of `size` (width, height)."""
    for frame, lost in frames:
        chroma = np.empty((2, *CHROMA_GRID), np.uint8)
        sample_chroma((frame.u, frame.v), chroma)
        yield WorkFrame(frame.time, reduce_luma(frame.y, size), chroma, frame.boxes, lost)


def cached(name: str, frames: Iterable[tuple[Frame, bool]], size: tuple[int, int], directory: Path) -> list[WorkFrame]:
    """The work frames of clip `name`, read from `directory`, or reduced from `frames` and written there."""
    path = directory / f"{name}.{fingerprint(name, size)}.npz"
    if path.exists():
        return _read(path)
    work = list(reduced(frames, size))
    directory.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f".{path.name}.{os.getpid()}.partial")
    with open(partial, "wb") as out:
        _write(work, out)
    os.replace(partial, path)
    for stale in directory.glob(f"{name}.*.npz"):
        if stale != path:
            stale.unlink(missing_ok=True)
    return work


def fingerprint(name: str, size: tuple[int, int]) -> str:
    """A hash of clip `name` at `size` and of the sources that draw it."""
    digest = hashlib.sha256(f"{name} {size}".encode())
    for source in SOURCES:
        path = ROOT / source
        for file in sorted(path.rglob("*.py")) if path.is_dir() else [path]:
            digest.update(file.read_bytes())
    return digest.hexdigest()[:16]


KINDS: tuple[Kind, ...] = get_args(Kind)  # boxes are kept as rows (frame, mover, kind's index, x0, y0, x1, y1)


def _write(work: list[WorkFrame], out: BinaryIO) -> None:
    boxes = [(index, box.mover, KINDS.index(box.kind), box.x0, box.y0, box.x1, box.y1)
             for index, frame in enumerate(work) for box in frame.boxes]
    np.savez(out, time=np.array([frame.time for frame in work]), y=np.stack([frame.y for frame in work]),
                        chroma=np.stack([frame.chroma for frame in work]),
                        lost=np.array([frame.lost for frame in work]), boxes=np.array(boxes, np.int32).reshape(-1, 7))


def _read(path: Path) -> list[WorkFrame]:
    with np.load(path) as stored:
        times, y, chroma, lost, rows = (stored[key] for key in ("time", "y", "chroma", "lost", "boxes"))
    boxes: list[list[Box]] = [[] for _ in times]
    for index, mover, kind, x0, y0, x1, y1 in rows.tolist():
        boxes[index].append(Box(mover, KINDS[kind], x0, y0, x1, y1))
    return [WorkFrame(float(t), y[i], chroma[i], tuple(boxes[i]), bool(lost[i])) for i, t in enumerate(times)]
