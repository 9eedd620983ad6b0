"""What a segment records of a camera's audio: AAC as it comes, any other codec (G.711 A-law / mu-law from
most Hikvision and Dahua cameras) converted to AAC, since MP4 players and browsers do not play G.711 in MP4.

The conversion is FFmpeg's own AAC encoder with its fast coder, mono, at the camera's sample rate (at most
16 kHz: G.711's 8 kHz holds nothing above 4 kHz to keep), 32 kbit/s, run in the camera's ingest thread on
half a second of packets at a time: about 0.2 % of a core per camera (design/audio.md).
"""

from __future__ import annotations

import os
from fractions import Fraction
from typing import Protocol

import av
import av.audio.stream
import av.container
import av.stream

COPIED = frozenset({"aac"})
AAC_BIT_RATE = 32_000
AAC_MAX_RATE = 16_000
GAP_SECONDS = 0.002  # decoded audio further than this from where the last frame ended is a gap (a lost packet)
BATCH_SECONDS = 0.5  # audio is converted and written this much at a time


class AudioTrack(Protocol):
    @property
    def template(self) -> av.stream.Stream:
        """The stream segment files copy their audio track's parameters from."""

    def convert(self, packet: av.Packet) -> list[av.Packet]:
        """The packets to record for one of the camera's (timestamps on the camera's timeline)."""

    def flush(self) -> list[av.Packet]:
        """What is still held back, for the segment about to close; what follows goes on from here."""


class CopiedAudio:
    def __init__(self, stream: av.audio.stream.AudioStream) -> None:
        self.template: av.stream.Stream = stream

    def convert(self, packet: av.Packet) -> list[av.Packet]:
        return [packet]

    def flush(self) -> list[av.Packet]:
        return []


class AacEncoder:
    """A mono AAC encoder whose opened parameters (its AudioSpecificConfig) can serve as a stream template:
    its stream belongs to a `null` container that is never written."""

    def __init__(self, rate: int) -> None:
        self._holder: av.container.OutputContainer = av.open(os.devnull, "w", format="null")
        self.stream: av.audio.stream.AudioStream = self._holder.add_stream(
            "aac", rate=rate, layout="mono", options={"aac_coder": "fast"})
        self.stream.codec_context.bit_rate = AAC_BIT_RATE
        self._holder.start_encoding()  # opens the encoder: the stream's parameters are final

    def encode(self, frame: av.AudioFrame | None) -> list[av.Packet]:
        """AAC packets, timestamped from the frames' (less the encoder's priming); None flushes."""
        return self.stream.encode(frame)


class TranscodedAudio:
    """Decodes the camera's audio and encodes it as AAC. The encoder holds back a frame or two (128 ms and
    more at 8 kHz), which `flush` hands over when a segment closes: they would come out after the picture
    that opens the next segment, with earlier times, and be lost. A gap in the camera's timestamps (a lost
    packet, a jump) flushes too, so the AAC keeps the camera's timing instead of closing the gap up."""

    def __init__(self, stream: av.audio.stream.AudioStream) -> None:
        self._decoder = stream.codec_context  # this thread is the only one decoding it
        self._rate = min(stream.codec_context.sample_rate or AAC_MAX_RATE, AAC_MAX_RATE)
        self._encoder = AacEncoder(self._rate)
        self.template: av.stream.Stream = self._encoder.stream
        self._next: Fraction | None = None  # seconds on the camera's timeline where the last frame ended

    def convert(self, packet: av.Packet) -> list[av.Packet]:
        out: list[av.Packet] = []
        for frame in self._decoder.decode(packet):
            if frame.pts is None or frame.time_base is None:
                continue
            start = frame.pts * frame.time_base
            if self._next is not None and abs(start - self._next) > GAP_SECONDS:
                out += self.flush()
            self._next = start + Fraction(frame.samples, frame.sample_rate)
            out += self._encoder.encode(frame)
        return out

    def flush(self) -> list[av.Packet]:
        """What the encoder holds; a fresh encoder (about a millisecond to open) takes over."""
        held = self._encoder.encode(None)
        self._encoder = AacEncoder(self._rate)
        return held


class Batched:
    """Hands the packets on BATCH_SECONDS at a time. Woken for every packet (25 a second for G.711 in 40 ms
    packets), the decoder, encoder and muxer of a live camera cost 3 to 4 times what they cost on the same
    packets in a row: their code and tables are out of the caches again at each packet (design/audio.md)."""

    def __init__(self, track: AudioTrack, time_base: Fraction) -> None:
        self.template = track.template
        self._track = track
        self._span = int(BATCH_SECONDS / time_base)  # in the packets' time base
        self._held: list[av.Packet] = []

    def convert(self, packet: av.Packet) -> list[av.Packet]:
        self._held.append(packet)
        if (packet.dts or 0) - (self._held[0].dts or 0) < self._span:
            return []
        return self._take()

    def flush(self) -> list[av.Packet]:
        return self._take() + self._track.flush()

    def _take(self) -> list[av.Packet]:
        held, self._held = self._held, []
        return [converted for packet in held for converted in self._track.convert(packet)]


def audio_track(stream: av.audio.stream.AudioStream) -> AudioTrack:
    """What records `stream`: copied or converted, half a second at a time."""
    track = CopiedAudio(stream) if stream.codec_context.name in COPIED else TranscodedAudio(stream)
    return Batched(track, stream.time_base or Fraction(1, stream.codec_context.sample_rate or AAC_MAX_RATE))
