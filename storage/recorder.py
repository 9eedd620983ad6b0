"""The recording sink: cuts a camera's record stream into segment files at keyframes and indexes them.

A segment's start is the wall time its first packet has in the light of the latest packet: the clock
learns (from packets that arrive earlier than it predicted) that the packets buffered at connect were
read late, and the start follows, so the first segment after a (re)connect is not stamped late. A
segment never starts more than one frame before the previous one ended, unless the station's clock was set back.
A keyframe with new SPS/PPS (resolution or encoder change) starts a segment whose header carries them.
The camera's audio goes into the segment of its time (AAC copied, other codecs converted to AAC): a camera's
sound often reaches us later than its pictures (its encoder holds a frame or two), so a cut waits, holding the
new segment's first pictures, until the sound has reached the keyframe that cuts (at most AUDIO_LAG_SECONDS of
pictures); what came before it closes the old segment instead of being left out of both. Audio that fails to
convert is dropped until the next connection, never the video.
"""

from __future__ import annotations

import errno
import logging
import threading
import time
from collections import deque
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
AUDIO_LAG_SECONDS = 1.0  # pictures held at a cut while the sound catches up with them, at most
HELD_MAX = 120  # packets held at a cut, at most (a second of 60 fps, with room)
HEARD_SECONDS = 2.0  # a cut waits for the sound only if some came this recently
CLOCK_SET_BACK_MS = 2_000  # a stamp this far before the previous segment's end: the station's clock was set back
UNINDEXED_SHOWN = 4  # finished segments shown until the catalog has them (while it is away longer, a gap shows)


def _seconds(packet: av.Packet) -> float | None:
    """The packet's time on the camera's timeline (its streams share it)."""
    if packet.dts is None or packet.time_base is None:
        return None
    return float(packet.dts * packet.time_base)


class SegmentRecorder:
    """A PacketSink and AudioSink. `on_finished` receives each durable segment (data fsynced before it is called).

    After a write error (a full disk), the next keyframe tries a new segment, so recording resumes by
    itself once there is room; `last_error` says why recording stopped until a packet is written again.
    A segment `on_finished` could not take (the index on a full disk) is offered again with the next one.
    `unindexed` shows the segment being closed and the finished ones `indexed` (the catalog writer) does not
    have yet, so that with `in_progress` the live edge of the recordings has no hole between two segments.
    """

    def __init__(self, camera: str, segments_dir: Path, segment_seconds: float,
                 on_finished: Callable[[Segment], object], indexed: Callable[[str], bool] = lambda _path: True,
                 room: Callable[[], bool] = lambda: True) -> None:
        """`room`: whether the disk has room for recordings (`storage.disk_room`), asked at every keyframe."""
        self.camera = camera
        self._room = room
        self._dir = segments_dir
        self._segment_ms = round(segment_seconds * 1000)
        self._on_finished = on_finished
        self._indexed = indexed
        self._closing: Segment | None = None  # the segment being closed, as far as it went
        self._finished: deque[Segment] = deque(maxlen=UNINDEXED_SHOWN)
        self._template: av.stream.Stream | None = None
        self._audio: AudioTrack | None = None
        self._file: SegmentFile | None = None
        self._watch: ParameterWatch | None = None  # H.264 only
        self._parameters: StreamParameters | None = None  # changed in-band since the stream started
        self._start_ms = 0
        self._floor_ms = 0  # no segment starts before this: the previous one's end, less one frame
        self._held: list[tuple[av.Packet, Stamp]] = []  # a cut's keyframe and what followed, while sound catches up
        self._held_at = 0.0  # that keyframe's time (seconds, the camera's timeline)
        self._heard: float | None = None  # monotonic time of the last sound packet
        self._lock = threading.Lock()  # guards what `in_progress` reads
        self.last_error: str | None = None
        # the files opened by this run, while its recorder process still checks the camera's older files: their stamps
        # do not tell them apart after the clock was set back (a review); None once that check is done (a path a
        # segment meanwhile: a day's outage of the catalog, which the check waits for, is 1,440 of them a camera)
        self.opened: set[str] | None = set()
        self.segments_written = 0  # finished segments (and their bytes) since this process started
        self.bytes_written = 0

    def start(self, stream: av.stream.Stream) -> None:
        self._cut_held()
        self._finish()
        self._template = stream
        self._audio = None
        self._heard = None
        context = stream.codec_context
        self._watch = ParameterWatch(context.extradata, context.width, context.height) \
            if isinstance(context, VideoCodecContext) and context.name == "h264" else None
        self._parameters = None

    def packet(self, packet: av.Packet, stamp: Stamp) -> None:
        if self._template is None:
            return
        if packet.is_keyframe and not self._room():  # what is left is the catalog's: this segment ends here
            self._held = []  # pictures held for the next segment, which does not open
            self._finish()
            self._report(OSError(errno.ENOSPC, "the disk's last free space is kept for the catalog"))
            return
        changed = self._watch.changed(bytes(packet)) if packet.is_keyframe and self._watch else None
        if self._held:
            at = _seconds(packet)
            if changed is None and at is not None and 0 <= at - self._held_at <= AUDIO_LAG_SECONDS \
                    and stamp.wall - self._held[0][1].wall <= AUDIO_LAG_SECONDS and len(self._held) < HELD_MAX:
                self._held.append((packet, stamp))
                return
            self._cut_held()  # the sound is this late or gone, or the camera's time jumped or froze: cut now
        if changed is not None:
            log.info("%s: stream parameters changed (%dx%d): new segment", self.camera, changed.width, changed.height)
            self._parameters = changed
        current = self._file
        if current is None or changed or (packet.is_keyframe and current.duration_ms >= self._segment_ms):
            if not packet.is_keyframe:
                return  # a segment must open with a keyframe to be playable on its own
            at = _seconds(packet)
            heard = self._heard is not None and time.monotonic() - self._heard <= HEARD_SECONDS
            if current is not None and self._audio is not None and heard and at is not None:
                self._held, self._held_at = [(packet, stamp)], at
                return
            self._finish()
            self._open(self._start_at(round(stamp.wall * 1000)))
        self._write(packet, stamp)

    def _write(self, packet: av.Packet, stamp: Stamp) -> None:
        try:
            with self._lock:
                if self._file is None:  # it could not be opened (a full disk): the next keyframe tries again
                    return
                at_ms = self._file.write(packet)
        except (av.FFmpegError, OSError) as exc:
            self._fail(exc)
            return
        if at_ms is not None:
            self._start_ms = self._start_at(round(stamp.wall * 1000) - at_ms)
        self.last_error = None

    def _cut_held(self) -> None:
        """The cut that waited for the sound: the old segment closes, the held pictures open the new one."""
        held, self._held = self._held, []
        if not held:
            return
        self._finish()
        self._open(self._start_at(round(held[0][1].wall * 1000)))
        for packet, stamp in held:
            self._write(packet, stamp)

    def start_audio(self, stream: av.audio.stream.AudioStream) -> None:
        self._audio = audio_track(stream)

    def audio(self, packet: av.Packet) -> None:
        """Raises when the audio cannot be converted or muxed: the worker then stops sending it, and segments
        opened from now on have no audio track; the pictures go on. A full disk is handled as for them."""
        audio = self._audio
        if audio is None:
            return
        self._heard = time.monotonic()
        if self._held and ((at := _seconds(packet)) is None or at >= self._held_at):  # it reached the held cut
            self._cut_held()
        if self._file is not None:
            self._write_audio(lambda: audio.convert(packet))

    def _write_audio(self, produce: Callable[[], list[av.Packet]]) -> None:
        """Write the packets `produce` gives into the open segment. A full disk fails the segment as for the
        pictures; any other error drops the audio (segments opened from now on have none) and is raised."""
        try:
            recorded = produce()
            with self._lock:
                if self._file is not None:
                    for each in recorded:
                        self._file.write_audio(each)
        except (av.FFmpegError, OSError) as exc:
            if is_disk_full(exc):
                self._fail(exc)
                return
            self._audio = None
            raise

    def stop(self, reason: str) -> None:
        self._cut_held()
        self._finish()
        self._template = None
        self._audio = None

    def in_progress(self) -> Segment | None:
        """The segment being written, as far as it goes (not in the index yet), once it can be read."""
        with self._lock:
            return self._so_far()

    def unindexed(self) -> tuple[Segment, ...]:
        """The finished segments not in the catalog yet, and the one being closed, in time order."""
        with self._lock:
            shown = [segment for segment in self._finished if not self._indexed(segment.path)]
            return (*shown, self._closing) if self._closing is not None else tuple(shown)

    def _so_far(self) -> Segment | None:
        """The open segment as far as it goes (the caller holds the lock)."""
        if self._file is None or not self._file.keyframes_ms or not self._file.readable:
            return None
        return Segment(self.camera, self._file.path.relative_to(self._dir).as_posix(), self._start_ms,
                       self._start_ms + self._file.duration_ms, 0, tuple(self._file.keyframes_ms))

    def _start_at(self, stamp_ms: int) -> int:
        """A segment's start: its stamp, but not more than a frame before the previous one ended (at a reconnect the
        first packets' stamps move back by about the second they were read late), unless the stamp is
        CLOCK_SET_BACK_MS or more before that: the station's clock was set back (it ran ahead, and NTP or the officer
        set it right), and the stamps follow it, overlapping what was stamped ahead. Kept after the old end, a
        camera's footage stayed that far ahead for as long as it stayed connected (found by an audit: an hour, and
        the clips of the events detected meanwhile had no footage)."""
        if stamp_ms <= self._floor_ms - CLOCK_SET_BACK_MS:
            return stamp_ms
        return max(stamp_ms, self._floor_ms)

    def _open(self, start_ms: int) -> None:
        assert self._template is not None
        if start_ms < self._floor_ms:
            log.warning("%s: the station's clock was set back %.1f s; its recordings follow it, overlapping what was "
                        "stamped before", self.camera, (self._floor_ms - start_ms) / 1000)
        path = self._dir / segment_relpath(self.camera, start_ms)
        while path.exists():  # stamped again after the clock was set back: never over another recording (a review)
            start_ms += 1
            path = self._dir / segment_relpath(self.camera, start_ms)
        opened = self.opened
        if opened is not None:
            opened.add(path.relative_to(self._dir).as_posix())
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
                self._write_audio(self._audio.flush)
            except (av.FFmpegError, OSError):
                log.exception("%s: the audio is dropped until the next connection", self.camera)
        with self._lock:
            self._closing = self._so_far()
            current, self._file = self._file, None
        if current is None:
            return
        try:
            try:
                size = current.close()
            except (av.FFmpegError, OSError) as exc:
                self._salvage(current, exc)
                return
            self._publish(current, current.duration_ms, size, tuple(current.keyframes_ms))
        finally:
            with self._lock:
                self._closing = None

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
        with self._lock:  # after `on_finished`: until then `_closing` shows it
            self._finished.append(segment)
