"""One segment being written: fragmented MP4 by stream copy, timestamps starting at zero.

Fragments are cut at every keyframe and at least every second, and flushed to the file as they
close, so a process killed at any moment leaves a playable file missing at most about a second.
An audio track, when the camera has one, is placed against the video by the camera's timestamps:
its zero is the segment's first picture.
"""

from __future__ import annotations

import contextlib
import os
from fractions import Fraction
from pathlib import Path

import av
import av.container
import av.stream
from av.video.codeccontext import VideoCodecContext

from ingest.parameter_sets import StreamParameters
from storage.custody import HashingWriter

FRAGMENTED_MP4 = {
    "movflags": "frag_keyframe+empty_moov+default_base_moof",
    "frag_duration": "1000000",  # microseconds
    "flush_packets": "1",
}
AUDIO_LEAD_SECONDS = 2.0  # audio further ahead of the last picture has a broken clock: not recorded


def with_audio(options: dict[str, str]) -> dict[str, str]:
    """The options of a fragmented MP4 with an audio track. Its header waits for the first fragment, so a track
    that starts after the first picture gets an edit list (written at once, the track's first sample would be
    moved to time zero); and pictures wait at most a second in the muxer for a stalled audio track."""
    return {**options, "movflags": options["movflags"] + "+delay_moov", "max_interleave_delta": "1000000"}


def fsync_path(path: Path) -> None:
    """Make a file (or a directory entry) durable against power loss."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class SegmentFile:
    def __init__(self, path: Path, template: av.stream.Stream, parameters: StreamParameters | None = None,
                 audio: av.stream.Stream | None = None) -> None:
        """`parameters`: the stream's parameters when they changed since `template` was opened; `audio`: the
        template of the audio track, if any."""
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        # Our own unbuffered file, not FFmpeg's: when the first write fails (a full disk) FFmpeg never
        # closes a file it opened, and a camera retrying at every keyframe would leak a descriptor each time.
        # FFmpeg writes through a hashing writer: the segment's SHA-256 is known the moment it closes.
        self._file = path.open("xb", buffering=0)  # never over another file: FileExistsError
        self._sink = HashingWriter(self._file)
        try:
            self._container: av.container.OutputContainer = av.open(
                self._sink, "w", format="mp4", options=with_audio(FRAGMENTED_MP4) if audio else FRAGMENTED_MP4)
        except BaseException:
            self._file.close()
            raise
        self._stream = self._container.add_stream_from_template(template)
        if parameters is not None:  # copied into the MP4 header when the first packet is muxed
            context = self._stream.codec_context
            assert isinstance(context, VideoCodecContext)
            context.extradata = parameters.extradata
            context.width, context.height = parameters.width, parameters.height
        self._audio = self._container.add_stream_from_template(audio) if audio is not None else None
        assert template.time_base is not None, "sources check that the video has a time base"
        self._video_time_base: Fraction = template.time_base
        self._time_base = float(template.time_base)
        self._base: int | None = None
        self._last_dts = -1
        self._audio_base: int | None = None  # the first picture's time, in the audio packets' time base
        self._last_audio_dts = -1
        self.keyframes_ms: list[int] = []
        self.duration_ms = 0
        self.frame_ms = 0  # the last step between two frames

    def write(self, packet: av.Packet) -> int | None:
        """Mux one packet (its timestamps are shifted so the segment starts at 0); returns its time in the
        segment in milliseconds, or None when it was skipped."""
        assert packet.dts is not None, "sources time every packet"
        if self._base is None:
            self._base = packet.dts
        dts = packet.dts - self._base
        if dts <= self._last_dts:
            return None  # a repeated or backward timestamp cannot be muxed; one frame is not worth a new file
        pts = (packet.pts if packet.pts is not None else packet.dts) - self._base
        if packet.is_keyframe:
            self.keyframes_ms.append(round(pts * self._time_base * 1000))
        if self._last_dts >= 0:
            self.frame_ms = round((dts - self._last_dts) * self._time_base * 1000)
        packet.dts, packet.pts = dts, pts
        self._last_dts = dts
        packet.stream = self._stream
        self._container.mux(packet)
        self.duration_ms = round((dts + (packet.duration or 0)) * self._time_base * 1000)
        return round(dts * self._time_base * 1000)

    @property
    def sha256(self) -> str:
        """The hash of every byte written to the file so far (all of it, once closed)."""
        return self._sink.hexdigest()

    @property
    def readable(self) -> bool:
        """Whether a reader can open the file yet: one with sound has no header before its first fragment."""
        return os.fstat(self._file.fileno()).st_size > 0

    def write_audio(self, packet: av.Packet) -> None:
        """Mux one audio packet at its place against the pictures. Audio from before the first picture, out of
        order, or more than AUDIO_LEAD_SECONDS ahead of the last picture is left out."""
        time_base = packet.time_base
        if self._audio is None or self._base is None or packet.dts is None or time_base is None:
            return
        if self._audio_base is None:
            self._audio_base = round(self._base * self._video_time_base / time_base)
        dts = packet.dts - self._audio_base
        ahead = float(dts * time_base) - self._last_dts * self._time_base
        if dts <= self._last_audio_dts or ahead > AUDIO_LEAD_SECONDS:
            return
        packet.pts = (packet.pts if packet.pts is not None else packet.dts) - self._audio_base
        packet.dts = dts
        self._last_audio_dts = dts
        packet.stream = self._audio
        self._container.mux(packet)

    def close(self) -> int:
        """Finish the file and make it durable; returns its size in bytes."""
        try:
            self._container.close()
        finally:
            self._file.close()
        fsync_path(self.path)
        fsync_path(self.path.parent)
        return self.path.stat().st_size

    def abort(self) -> None:
        """Close after a write error without raising; what reached the disk stays readable."""
        with contextlib.suppress(av.FFmpegError, OSError):
            self._container.close()
        self._file.close()
