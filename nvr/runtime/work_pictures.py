"""Detection's work pictures passed between processes through shared memory, one slot per camera.

A recorder process decodes each camera's detect stream and writes the reduced picture (the bank's
work size, luma only) and a grid of chroma samples into the camera's slot; the detection process
reads every slot each tick. Nothing is queued: a newer picture replaces one not yet read, as in the
bank itself. A slot is guarded by a sequence number (odd while it is being written), so the reader
never takes a half-written picture and never waits for the writer.
"""

from __future__ import annotations

import contextlib
import mmap
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from detect.frames import CHROMA_GRID


def shared_folder() -> Path:
    """/dev/shm where it exists (memory, never written to disk), else the temporary folder."""
    shm = Path("/dev/shm")
    return shm if shm.is_dir() and os.access(shm, os.W_OK) else Path(tempfile.gettempdir())


@dataclass(frozen=True)
class WorkPicture:
    luma: np.ndarray  # (height, width) uint8, a copy
    chroma: np.ndarray | None  # (2, rows, columns) uint8 samples, a copy; None when the stream had none
    t: float  # wall-clock seconds of the frame


def _dtype(work_size: tuple[int, int]) -> np.dtype:
    width, height = work_size
    return np.dtype([("seq", np.uint64), ("t", np.float64), ("has_chroma", np.uint8),
                     ("luma", np.uint8, (height, width)), ("chroma", np.uint8, (2, *CHROMA_GRID))], align=True)


class WorkPictureTable:
    """`slots` pictures in a file mapped into memory; the writer creates it, readers attach by path."""

    def __init__(self, path: Path, slots: int, work_size: tuple[int, int], *, create: bool) -> None:
        self.path = path
        dtype = _dtype(work_size)
        size = max(1, slots) * dtype.itemsize
        fd = _created(path, size) if create else os.open(path, os.O_RDWR)
        try:
            if os.fstat(fd).st_size < size:
                raise ValueError(f"{path} holds fewer than {slots} work pictures")
            self._map = mmap.mmap(fd, size)
        finally:
            os.close(fd)
        self._slots = np.ndarray((max(1, slots),), dtype, buffer=self._map)[:slots]
        self._seen = np.zeros(slots, np.uint64)

    def close(self) -> None:
        del self._slots
        self._map.close()

    def writer(self, slot: int) -> SlotWriter:
        """Writer side of `slot` (one writer per slot: its owner keeps it)."""
        return SlotWriter(self._slots[slot:slot + 1])

    def read_new(self) -> dict[int, WorkPicture]:
        """Reader side: the pictures written since the last call, by slot; a slot being written right now
        is left for the next call."""
        seqs = self._slots["seq"].copy()
        fresh = np.flatnonzero((seqs != self._seen) & (seqs % 2 == 0))
        found: dict[int, WorkPicture] = {}
        for slot in fresh.tolist():
            entry = self._slots[slot]
            luma, t, has_chroma = entry["luma"].copy(), float(entry["t"]), bool(entry["has_chroma"])
            chroma = entry["chroma"].copy() if has_chroma else None
            if int(self._slots["seq"][slot]) != int(seqs[slot]):
                continue  # overwritten while copied: take it next time
            self._seen[slot] = seqs[slot]
            found[slot] = WorkPicture(luma, chroma, t)
        return found


def _created(path: Path, size: int) -> int:
    """A new file of `size` bytes put in place of `path` (open, read-write): a reader still mapping the file it
    replaces (a restarted recorder's, the detector's until it is told) keeps reading that one. Truncated in place,
    its pages would be gone under the reader, which then dies of SIGBUS."""
    fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        os.ftruncate(fd, size)
        os.replace(temporary, path)
    except OSError:
        os.close(fd)
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise
    return fd


class SlotWriter:
    """One slot's fields as views made once: the writer reduces each picture straight into `luma` and
    `chroma` between `begin` and `commit`, with no copy and few calls (it runs for every decoded frame)."""

    def __init__(self, entry: np.ndarray) -> None:
        self._seq = entry["seq"]
        self._t = entry["t"]
        self._has_chroma = entry["has_chroma"]
        self.luma: np.ndarray = entry["luma"][0]
        self.chroma: np.ndarray = entry["chroma"][0]

    def begin(self) -> None:
        self._seq += 1  # odd: being written, readers leave it for their next look

    def commit(self, t: float, has_chroma: bool) -> None:
        self._has_chroma[0] = has_chroma
        self._t[0] = t
        self._seq += 1
