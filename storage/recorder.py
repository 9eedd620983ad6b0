"""The recording sink: cuts a camera's record stream into segment files at keyframes and indexes them."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from pathlib import Path

import av
import av.stream

from ingest.clock import Stamp
from storage.disk_space import is_disk_full
from storage.index import Segment
from storage.layout import segment_relpath
from storage.probe import probe_segment
from storage.segment_file import SegmentFile

log = logging.getLogger(__name__)


class SegmentRecorder:
    """A PacketSink. `on_finished` receives each durable segment (data fsynced before it is called).

    After a write error (a full disk), the next keyframe tries a new segment, so recording resumes by
    itself once there is room; `last_error` says why recording stopped until a packet is written again.
    A segment `on_finished` could not take (the index on a full disk) is offered again with the next one.
    """

    def __init__(self, camera: str, segments_dir: Path, segment_seconds: float,
                 on_finished: Callable[[Segment], None]) -> None:
        self.camera = camera
        self._dir = segments_dir
        self._segment_ms = round(segment_seconds * 1000)
        self._on_finished = on_finished
        self._template: av.stream.Stream | None = None
        self._file: SegmentFile | None = None
        self._start_ms = 0
        self._lock = threading.Lock()  # guards what `in_progress` reads
        self._unindexed: list[Segment] = []
        self.last_error: str | None = None

    def start(self, stream: av.stream.Stream) -> None:
        self._finish()
        self._template = stream

    def packet(self, packet: av.Packet, stamp: Stamp) -> None:
        if self._template is None:
            return
        current = self._file
        if current is None or (packet.is_keyframe and current.duration_ms >= self._segment_ms):
            if not packet.is_keyframe:
                return  # a segment must open with a keyframe to be playable on its own
            self._finish()
            self._open(round(stamp.wall * 1000))
        try:
            with self._lock:
                assert self._file is not None
                self._file.write(packet)
        except (av.FFmpegError, OSError) as exc:
            self._fail(exc)
            return
        self.last_error = None

    def stop(self, reason: str) -> None:
        self._finish()
        self._template = None

    def in_progress(self) -> Segment | None:
        """The segment being written, as far as it goes (not in the index yet)."""
        with self._lock:
            if self._file is None or not self._file.keyframes_ms:
                return None
            return Segment(self.camera, segment_relpath(self.camera, self._start_ms), self._start_ms,
                           self._start_ms + self._file.duration_ms, 0, tuple(self._file.keyframes_ms))

    def _open(self, start_ms: int) -> None:
        assert self._template is not None
        path = self._dir / segment_relpath(self.camera, start_ms)
        try:
            new = SegmentFile(path, self._template)
        except (av.FFmpegError, OSError) as exc:
            self._fail(exc)
            return
        with self._lock:
            self._file, self._start_ms = new, start_ms

    def _finish(self) -> None:
        with self._lock:
            current, self._file = self._file, None
        if current is None:
            return
        try:
            size = current.close()
        except (av.FFmpegError, OSError) as exc:
            self._salvage(current, exc)
            return
        self._publish(current.path, self._start_ms, current.duration_ms, size, tuple(current.keyframes_ms))

    def _fail(self, exc: Exception) -> None:
        with self._lock:
            current, self._file = self._file, None
        if current is not None:
            self._salvage(current, exc)
        else:
            self._report(exc)

    def _report(self, exc: Exception) -> None:
        error = "cannot write recordings: " + ("disk full" if is_disk_full(exc) else str(exc))
        if error != self.last_error:  # once per failure, not once per keyframe while it lasts
            log.error("%s: %s (%s)", self.camera, error, exc)
        self.last_error = error

    def _salvage(self, current: SegmentFile, exc: Exception) -> None:
        """After a write error (disk full, ...), keep whatever of the segment is readable."""
        self._report(exc)
        current.abort()
        probe = probe_segment(current.path)
        if probe.packets == 0:
            current.path.unlink(missing_ok=True)
            return
        size = current.path.stat().st_size
        self._publish(current.path, self._start_ms, probe.duration_ms, size, probe.keyframes_ms)

    def _publish(self, path: Path, start_ms: int, duration_ms: int, size: int, keyframes: tuple[int, ...]) -> None:
        self._unindexed.append(Segment(self.camera, path.relative_to(self._dir).as_posix(), start_ms,
                                       start_ms + duration_ms, size, keyframes))
        while self._unindexed:
            try:
                self._on_finished(self._unindexed[0])
            except Exception:
                log.exception("%s: could not index %s (tried again with the next segment, and at the next start)",
                              self.camera, self._unindexed[0].path)
                return
            self._unindexed.pop(0)
