"""The recording sink: cuts a camera's record stream into segment files at keyframes and indexes them.

A segment's start is the wall time its first packet has in the light of the latest packet: the clock
learns (from packets that arrive earlier than it predicted) that the packets buffered at connect were
read late, and the start follows, so the first segment after a (re)connect is not stamped late. A
segment never starts more than one frame before the previous one ended, whatever the clock says.
A keyframe with new SPS/PPS (resolution or encoder change) starts a segment whose header carries them.
The camera's audio goes into the segment open when it arrives (AAC copied, other codecs converted to AAC);
audio that fails to convert is dropped until the next connection, never the video.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from pathlib import Path

import av
import av.audio.stream
import av.stream
from av.video.codeccontext import VideoCodecContext

from ingest.clock import Stamp
from ingest.parameter_sets import ParameterWatch, StreamParameters
from storage.audio_track import AudioTrack, audio_track
from storage.disk_space import is_disk_full
from storage.index import Segment
from storage.layout import segment_relpath
from storage.probe import probe_segment
from storage.segment_file import SegmentFile

log = logging.getLogger(__name__)


class SegmentRecorder:
    """A PacketSink and AudioSink. `on_finished` receives each durable segment (data fsynced before it is called).

    After a write error (a full disk), the next keyframe tries a new segment, so recording resumes by
    itself once there is room; `last_error` says why recording stopped until a packet is written again.
    A segment `on_finished` could not take (the index on a full disk) is offered again with the next one.
    """

    def __init__(self, camera: str, segments_dir: Path, segment_seconds: float,
                 on_finished: Callable[[Segment], object]) -> None:
        self.camera = camera
        self._dir = segments_dir
        self._segment_ms = round(segment_seconds * 1000)
        self._on_finished = on_finished
        self._template: av.stream.Stream | None = None
        self._audio: AudioTrack | None = None
        self._file: SegmentFile | None = None
        self._watch: ParameterWatch | None = None  # H.264 only
        self._parameters: StreamParameters | None = None  # changed in-band since the stream started
        self._start_ms = 0
        self._floor_ms = 0  # no segment starts before this: the previous one's end, less one frame
        self._lock = threading.Lock()  # guards what `in_progress` reads
        self.last_error: str | None = None
        self.segments_written = 0  # finished segments (and their bytes) since this process started
        self.bytes_written = 0

    def start(self, stream: av.stream.Stream) -> None:
        self._finish()
        self._template = stream
        self._audio = None
        context = stream.codec_context
        self._watch = ParameterWatch(context.extradata, context.width, context.height) \
            if isinstance(context, VideoCodecContext) and context.name == "h264" else None
        self._parameters = None

    def packet(self, packet: av.Packet, stamp: Stamp) -> None:
        if self._template is None:
            return
        changed = self._watch.changed(bytes(packet)) if packet.is_keyframe and self._watch else None
        if changed is not None:
            log.info("%s: stream parameters changed (%dx%d): new segment", self.camera, changed.width, changed.height)
            self._parameters = changed
        current = self._file
        if current is None or changed or (packet.is_keyframe and current.duration_ms >= self._segment_ms):
            if not packet.is_keyframe:
                return  # a segment must open with a keyframe to be playable on its own
            self._finish()
            self._open(max(round(stamp.wall * 1000), self._floor_ms))
        try:
            with self._lock:
                assert self._file is not None
                at_ms = self._file.write(packet)
        except (av.FFmpegError, OSError) as exc:
            self._fail(exc)
            return
        if at_ms is not None:
            self._start_ms = max(round(stamp.wall * 1000) - at_ms, self._floor_ms)
        self.last_error = None

    def start_audio(self, stream: av.audio.stream.AudioStream) -> None:
        self._audio = audio_track(stream)

    def audio(self, packet: av.Packet) -> None:
        """Raises when the audio cannot be converted or muxed: the worker then stops sending it, and segments
        opened from now on have no audio track; the pictures go on. A full disk is handled as for them."""
        audio, current = self._audio, self._file
        if audio is not None and current is not None:
            self._write_audio(current, lambda: audio.convert(packet))

    def _write_audio(self, current: SegmentFile, produce: Callable[[], list[av.Packet]]) -> None:
        """Write the packets `produce` gives into `current`. A full disk fails the segment as for the pictures;
        any other error drops the audio (segments opened from now on have none) and is raised."""
        try:
            recorded = produce()
            with self._lock:
                for each in recorded:
                    current.write_audio(each)
        except (av.FFmpegError, OSError) as exc:
            if is_disk_full(exc):
                self._fail(exc)
                return
            self._audio = None
            raise

    def stop(self, reason: str) -> None:
        self._finish()
        self._template = None
        self._audio = None

    def in_progress(self) -> Segment | None:
        """The segment being written, as far as it goes (not in the index yet), once it can be read."""
        with self._lock:
            if self._file is None or not self._file.keyframes_ms or not self._file.readable:
                return None
            return Segment(self.camera, self._file.path.relative_to(self._dir).as_posix(), self._start_ms,
                           self._start_ms + self._file.duration_ms, 0, tuple(self._file.keyframes_ms))

    def _open(self, start_ms: int) -> None:
        assert self._template is not None
        path = self._dir / segment_relpath(self.camera, start_ms)
        try:
            new = SegmentFile(path, self._template, self._parameters,
                              self._audio.template if self._audio is not None else None)
        except (av.FFmpegError, OSError) as exc:
            self._fail(exc)
            return
        with self._lock:
            self._file, self._start_ms = new, start_ms

    def _finish(self) -> None:
        if self._audio is not None and self._file is not None:
            try:  # the audio the converter still holds belongs before the picture that cuts the segment
                self._write_audio(self._file, self._audio.flush)
            except (av.FFmpegError, OSError):
                log.exception("%s: the audio is dropped until the next connection", self.camera)
        with self._lock:
            current, self._file = self._file, None
        if current is None:
            return
        try:
            size = current.close()
        except (av.FFmpegError, OSError) as exc:
            self._salvage(current, exc)
            return
        self._publish(current, current.duration_ms, size, tuple(current.keyframes_ms))

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
        self._publish(current, probe.duration_ms, size, probe.keyframes_ms)

    def _publish(self, current: SegmentFile, duration_ms: int, size: int, keyframes: tuple[int, ...]) -> None:
        segment = Segment(self.camera, current.path.relative_to(self._dir).as_posix(), self._start_ms,
                          self._start_ms + duration_ms, size, keyframes, sha256=current.sha256)
        self._floor_ms = segment.end_ms - current.frame_ms
        self.segments_written += 1
        self.bytes_written += size
        try:
            self._on_finished(segment)
        except Exception:
            log.exception("%s: could not index %s (it will be indexed again at the next start)",
                          self.camera, segment.path)
