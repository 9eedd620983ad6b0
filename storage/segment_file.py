"""One segment being written: fragmented MP4 by stream copy, timestamps starting at zero.

Fragments are cut at every keyframe and at least every second, and flushed to the file as they
close, so a process killed at any moment leaves a playable file missing at most about a second.
"""

from __future__ import annotations

import contextlib
import os
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


def fsync_path(path: Path) -> None:
    """Make a file (or a directory entry) durable against power loss."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class SegmentFile:
    def __init__(self, path: Path, template: av.stream.Stream, parameters: StreamParameters | None = None) -> None:
        """`parameters`: the stream's parameters when they changed since `template` was opened."""
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        # Our own unbuffered file, not FFmpeg's: when the first write fails (a full disk) FFmpeg never
        # closes a file it opened, and a camera retrying at every keyframe would leak a descriptor each time.
        # FFmpeg writes through a hashing writer: the segment's SHA-256 is known the moment it closes.
        self._file = path.open("wb", buffering=0)
        self._sink = HashingWriter(self._file)
        try:
            self._container: av.container.OutputContainer = av.open(self._sink, "w", format="mp4",
                                                                     options=FRAGMENTED_MP4)
        except BaseException:
            self._file.close()
            raise
        self._stream = self._container.add_stream_from_template(template)
        if parameters is not None:  # copied into the MP4 header when the first packet is muxed
            context = self._stream.codec_context
            assert isinstance(context, VideoCodecContext)
            context.extradata = parameters.extradata
            context.width, context.height = parameters.width, parameters.height
        self._time_base = float(template.time_base)  # type: ignore[arg-type]
        self._base: int | None = None
        self._last_dts = -1
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
