"""A recorder-side PacketSink that keeps a stream's current GOP and forwards its frames to the station
process while somebody there watches; a new watcher starts at the last keyframe. The camera's audio goes
too while somebody listens, as the camera coded it (the station converts it for each listener).

Nobody watches most streams most of the time: the GOP then holds the demuxer's packets themselves (a
reference, no copy) and each is converted to a live frame only when a watcher needs it."""

from __future__ import annotations

import logging
import threading
from fractions import Fraction
from typing import NamedTuple

import av
import av.audio.stream
import av.stream

from ingest.annexb import AnnexBConverter
from ingest.clock import Stamp
from ingest.live_units import MAX_GOP_BYTES, AudioChunk, EncodedFrame
from nvr.runtime.messages import LiveAudio, LiveData, LiveReset
from nvr.runtime.station_outlet import StationOutlet

log = logging.getLogger(__name__)


class _Held(NamedTuple):
    """A GOP packet not converted yet. Its timestamp is taken when it arrives: the recorder, the last sink,
    rewrites the packet's own when it muxes it (the payload is never changed)."""

    packet: av.Packet
    pts: int
    keyframe: bool


class LiveTap:
    def __init__(self, camera: str, role: str, outlet: StationOutlet) -> None:
        self.camera, self.role = camera, role
        self._outlet = outlet
        self._lock = threading.Lock()
        self._converter: AnnexBConverter | None = None
        self._time_base = Fraction(1, 90_000)
        self._gop: list[_Held | LiveData] = []  # converted in order, from the front, when first needed
        self._converted = 0  # how many of the GOP's entries are LiveData
        self._gop_bytes = 0  # the payload bytes held in it
        self._watched = False
        self._listened = False
        self._audio_config: bytes | None = None

    def watch(self, on: bool, sound: bool = False) -> None:
        """Start (with the current GOP) or stop forwarding frames; and the same for the sound."""
        with self._lock:
            if on and not self._watched:
                for index in range(len(self._gop)):
                    if not self._send(index):
                        break
            self._watched, self._listened = on, sound

    def start(self, stream: av.stream.Stream) -> None:
        with self._lock:
            self._converter = AnnexBConverter(stream)
            self._time_base = stream.time_base or self._time_base
            self._new_gop()
            self._outlet.send(LiveReset(self.camera, self.role))

    def packet(self, packet: av.Packet, stamp: Stamp) -> None:
        keyframe = packet.is_keyframe
        if self._converter is None or (not keyframe and not self._gop):
            return  # nothing decodable before the first keyframe
        pts = packet.pts if packet.pts is not None else packet.dts
        with self._lock:
            if keyframe:
                self._new_gop()
            self._gop_bytes += packet.size
            if self._gop_bytes > MAX_GOP_BYTES:  # no keyframe for long: wait for the next one rather than hold on
                self._new_gop()
                return
            self._gop.append(_Held(packet, int(pts or 0), keyframe))
            if self._watched:
                self._send(len(self._gop) - 1)

    def _send(self, index: int) -> bool:
        """Send GOP entry `index` to the station; under the lock. A packet the converter refuses (a file's H.264
        whose length prefix is damaged) ends the GOP there: False, and the picture starts again at the next
        keyframe. Before, the error went up into the thread that serves the station's commands, which died with
        it: no snapshot, live view or camera change for any camera of the recorder since."""
        try:
            frame = self._frame(index)
        except av.FFmpegError as exc:
            log.warning("%s/%s: a packet could not be made a live frame (%s); the live view waits for the next "
                        "keyframe", self.camera, self.role, exc)
            self._new_gop()
            return False
        self._outlet.send(frame)
        return True

    def _frame(self, index: int) -> LiveData:
        """GOP entry `index` as a live frame, converting it (and those held before it) now; under the lock.
        The converter sees the packets in stream order (H.264 from a file goes through a bitstream filter)."""
        assert self._converter is not None, "a GOP exists only while the stream runs"
        while self._converted <= index:
            held = self._gop[self._converted]
            assert isinstance(held, _Held)
            self._gop[self._converted] = LiveData(self.camera, self.role, EncodedFrame(
                self._converter.convert(held.packet), held.pts, self._time_base, held.keyframe))
            self._converted += 1
        frame = self._gop[index]
        assert isinstance(frame, LiveData)
        return frame

    def _new_gop(self) -> None:
        self._gop.clear()
        self._converted = 0
        self._gop_bytes = 0

    def start_audio(self, stream: av.audio.stream.AudioStream) -> None:
        self._audio_config = stream.codec_context.extradata

    def audio(self, packet: av.Packet) -> None:
        if self._listened and packet.pts is not None and packet.time_base is not None:
            chunk = AudioChunk(bytes(packet), packet.pts, packet.time_base, self._audio_config)
            self._outlet.send(LiveAudio(self.camera, self.role, chunk))

    def stop(self, reason: str) -> None:
        with self._lock:
            self._converter = None
            self._new_gop()
