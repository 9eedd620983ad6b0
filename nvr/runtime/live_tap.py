"""A recorder-side PacketSink that keeps a stream's current GOP and forwards its frames to the station
process while somebody there watches; a new watcher starts at the last keyframe. The camera's audio goes
too while somebody listens, as the camera coded it (the station converts it for each listener)."""

from __future__ import annotations

import threading
from fractions import Fraction

import av
import av.audio.stream
import av.stream

from ingest.annexb import AnnexBConverter
from ingest.clock import Stamp
from ingest.live_hub import AudioChunk, EncodedFrame
from nvr.runtime.messages import LiveAudio, LiveData, LiveReset
from nvr.runtime.station_outlet import StationOutlet


class LiveTap:
    def __init__(self, camera: str, role: str, outlet: StationOutlet) -> None:
        self.camera, self.role = camera, role
        self._outlet = outlet
        self._lock = threading.Lock()
        self._converter: AnnexBConverter | None = None
        self._time_base = Fraction(1, 90_000)
        self._gop: list[LiveData] = []
        self._watched = False
        self._listened = False
        self._audio_config: bytes | None = None

    def watch(self, on: bool, sound: bool = False) -> None:
        """Start (with the current GOP) or stop forwarding frames; and the same for the sound."""
        with self._lock:
            if on and not self._watched:
                for frame in self._gop:
                    self._outlet.send(frame)
            self._watched, self._listened = on, sound

    def start(self, stream: av.stream.Stream) -> None:
        with self._lock:
            self._converter = AnnexBConverter(stream)
            self._time_base = stream.time_base or self._time_base
            self._gop.clear()
            self._outlet.send(LiveReset(self.camera, self.role))

    def packet(self, packet: av.Packet, stamp: Stamp) -> None:
        if self._converter is None or (not packet.is_keyframe and not self._gop):
            return  # nothing decodable before the first keyframe
        pts = packet.pts if packet.pts is not None else packet.dts
        encoded = EncodedFrame(self._converter.convert(packet), int(pts or 0), self._time_base,
                               bool(packet.is_keyframe))
        frame = LiveData(self.camera, self.role, encoded)
        with self._lock:
            if encoded.keyframe:
                self._gop.clear()
            self._gop.append(frame)
            if self._watched:
                self._outlet.send(frame)

    def start_audio(self, stream: av.audio.stream.AudioStream) -> None:
        self._audio_config = stream.codec_context.extradata

    def audio(self, packet: av.Packet) -> None:
        if self._listened and packet.pts is not None and packet.time_base is not None:
            chunk = AudioChunk(bytes(packet), packet.pts, packet.time_base, self._audio_config)
            self._outlet.send(LiveAudio(self.camera, self.role, chunk))

    def stop(self, reason: str) -> None:
        with self._lock:
            self._converter = None
            self._gop.clear()
