"""AAC to Opus for whoever listens to an AAC camera live: WebRTC has no AAC. FFmpeg's AAC decoder and
libopus at its lowest complexity, mono, at the camera's own rate, 24 kbit/s: about 3 ms of CPU per second
of audio (design/audio.md), and only while somebody listens."""

from __future__ import annotations

from fractions import Fraction

import av

from ingest.live_units import AudioChunk

OPUS_RATES = frozenset({8000, 12000, 16000, 24000, 48000})  # what libopus takes as it is; others go to 48 kHz
OPUS_BIT_RATE = 24_000
OPUS_OPTIONS = {"application": "voip", "compression_level": "0", "frame_duration": "20"}


class AacToOpus:
    def __init__(self) -> None:
        self._decoder: av.AudioCodecContext | None = None
        self._encoder: av.AudioCodecContext | None = None

    def convert(self, chunk: AudioChunk) -> list[av.Packet]:
        """Opus packets for one AAC packet (none while the encoder fills its first frame, or for a damaged one)."""
        if self._decoder is None:
            decoder = av.CodecContext.create("aac", "r")
            assert isinstance(decoder, av.AudioCodecContext)
            decoder.extradata = chunk.config
            self._decoder = decoder
        packet = av.Packet(chunk.data)
        packet.pts, packet.time_base = chunk.pts, chunk.time_base
        try:
            frames = self._decoder.decode(packet)
        except av.InvalidDataError:
            return []
        return [opus for frame in frames for opus in self._encoder_for(frame).encode(frame)]

    def _encoder_for(self, frame: av.AudioFrame) -> av.AudioCodecContext:
        if self._encoder is None:
            rate = frame.sample_rate if frame.sample_rate in OPUS_RATES else 48_000
            encoder = av.CodecContext.create("libopus", "w")
            assert isinstance(encoder, av.AudioCodecContext)
            encoder.sample_rate, encoder.layout, encoder.format = rate, "mono", "s16"
            encoder.bit_rate, encoder.time_base, encoder.options = OPUS_BIT_RATE, Fraction(1, rate), OPUS_OPTIONS
            self._encoder = encoder
        return self._encoder
