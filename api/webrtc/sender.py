"""aiortc's RTP send loop, for frames the hub has already split into RTP payloads.

aiortc builds an `RtpPacket` and serializes its header extensions for every packet it sends: about 400 a
second for one 1080p viewer, a fifth of that viewer's server cost. The packets of one frame differ only in
sequence number and marker bit, so this loop serializes the frame's first header once and patches those
two fields for the rest. It keeps the sent bytes, not packet objects, for NACK retransmission, and
paces large frames.

aiortc has no public hook for any of this: `PassthroughSender.adopt` turns the sender aiortc created into
this subclass, which reads and updates the base class's private state (checked at adoption; aiortc is
pinned in pyproject.toml).
"""

from __future__ import annotations

import asyncio
import logging
import struct
from collections.abc import Iterator
from typing import Any

from aiortc import RTCRtpSender, clock
from aiortc.mediastreams import MediaStreamError
from aiortc.rtcrtpparameters import RTCRtpCodecParameters
from aiortc.rtcrtpsender import random_sequence_number
from aiortc.rtp import RTP_HISTORY_SIZE, RtpPacket, wrap_rtx
from aiortc.utils import random32, uint16_add, uint32_add

from api.webrtc.direct_route import DirectRoute
from ingest.live_hub import LiveFrame

log = logging.getLogger(__name__)

_MARKER_TYPE_SEQUENCE = struct.Struct("!BH")  # header bytes 1-3: marker bit | payload type, sequence number
_MARKER = 0x80
# A keyframe is paced, not sent in one burst: a 1080p camera's can be 350 kB, more than a receiver's default
# socket buffer (208 KiB on Linux) holds, and a keyframe with a hole leaves the picture frozen until the next.
PACING_BURST_BYTES = 48_000
PACING_BITS_PER_SECOND = 50_000_000  # 48 kB every 7.7 ms; a 4 Mbit/s camera's other frames go in one burst
_BASE_STATE = ("track", "mid", "rtp_header_extensions_map", "rtp_started", "rtp_exited", "ntp_timestamp",
               "rtp_timestamp", "octet_count", "packet_count", "rtx_payload_type", "rtx_sequence_number")


def _bursts(packets: list[bytes]) -> Iterator[tuple[list[bytes], int]]:
    """The packets in groups that each reach PACING_BURST_BYTES, or hold the rest; with their bytes."""
    start = 0
    while start < len(packets):
        end, size = start, 0
        while end < len(packets) and size < PACING_BURST_BYTES:
            size += len(packets[end])
            end += 1
        yield packets[start:end], size
        start = end


class PassthroughSender(RTCRtpSender):
    """Sends a PassthroughTrack's frames: their shared payloads behind one header build per frame."""

    _sent: dict[int, bytes]  # RTP packets before encryption, by sequence number modulo the history size
    _direct: DirectRoute | None  # the route of the last frame sent

    @classmethod
    def adopt(cls, sender: RTCRtpSender) -> None:
        """Make the sender aiortc created for a PassthroughTrack one of these (before it starts sending)."""
        missing = [name for name in _BASE_STATE if not hasattr(sender, f"_RTCRtpSender__{name}")]
        if missing:
            raise RuntimeError(f"this aiortc's RTCRtpSender has no {missing}: live view needs updating")
        sender.__class__ = cls
        assert isinstance(sender, cls)
        sender._sent = {}
        sender._direct = None

    def _base(self, name: str) -> Any:
        """RTCRtpSender's private attribute `__name`."""
        return getattr(self, f"_RTCRtpSender__{name}")

    def _set_base(self, name: str, value: object) -> None:
        setattr(self, f"_RTCRtpSender__{name}", value)

    async def _run_rtp(self, codec: RTCRtpCodecParameters) -> None:
        self._base("rtp_started").set()
        sequence_number = random_sequence_number()
        timestamp_origin = random32()
        track = self._base("track")
        try:
            payload_type = codec.payloadType
            assert payload_type is not None, "a negotiated codec has a payload type"
            while True:
                frame = await track.recv()
                if self._enabled:
                    sequence_number = await self._send_frame(frame, payload_type, timestamp_origin,
                                                             sequence_number)
        except (asyncio.CancelledError, ConnectionError, MediaStreamError):
            pass
        except Exception:
            log.exception("live view: sending RTP failed")
        finally:
            track.stop()
            if self._direct is not None:
                self._direct.close()
            self._set_base("track", None)
            self._base("rtp_exited").set()  # RTCRtpSender.stop waits for this

    async def _send_frame(self, frame: LiveFrame, payload_type: int, timestamp_origin: int,
                          sequence_number: int) -> int:
        """Send one frame's packets; returns the next sequence number."""
        payloads, timestamp = frame.rtp
        first = RtpPacket(payload_type=payload_type, sequence_number=sequence_number,
                          timestamp=uint32_add(timestamp_origin, timestamp), ssrc=self._ssrc)
        first.extensions.abs_send_time = (clock.current_ntp_time() >> 14) & 0x00FFFFFF
        first.extensions.mid = self._base("mid")
        header = bytearray(first.serialize(self._base("rtp_header_extensions_map")))
        last = len(payloads) - 1
        packets = []
        for i, payload in enumerate(payloads):
            _MARKER_TYPE_SEQUENCE.pack_into(header, 1, payload_type | (_MARKER if i == last else 0), sequence_number)
            packet = bytes(header) + payload
            self._sent[sequence_number % RTP_HISTORY_SIZE] = packet
            packets.append(packet)
            sequence_number = uint16_add(sequence_number, 1)
        pause = 0.0
        for burst, size in _bursts(packets):
            if pause:
                await asyncio.sleep(pause)
            await self._send_packets(burst)
            pause = size * 8 / PACING_BITS_PER_SECOND
        # what the RTCP sender reports and getStats read
        self._set_base("ntp_timestamp", clock.current_ntp_time())
        self._set_base("rtp_timestamp", first.timestamp)
        self._set_base("octet_count", self._base("octet_count") + sum(map(len, payloads)))
        self._set_base("packet_count", self._base("packet_count") + len(payloads))
        return sequence_number

    async def _send_packets(self, packets: list[bytes]) -> None:
        """Straight to the viewer's socket when the connection allows it (see DirectRoute), else through aiortc."""
        pair = DirectRoute.nominated_pair(self.transport)
        if pair is None:
            for packet in packets:
                await self.transport._send_rtp(packet)
            return
        if self._direct is None or self._direct.pair is not pair:
            if self._direct is not None:
                self._direct.close()
            self._direct = DirectRoute(self.transport, pair)
        self._direct.send(packets)

    async def _retransmit(self, sequence_number: int) -> None:
        """Resend a packet the viewer reported lost, wrapped for RTX when that was negotiated."""
        packet = self._sent.get(sequence_number % RTP_HISTORY_SIZE)
        if packet is None or int.from_bytes(packet[2:4], "big") != sequence_number:
            return  # too old: overwritten by a newer packet
        rtx_payload_type = self._base("rtx_payload_type")
        if rtx_payload_type is not None:
            extensions = self._base("rtp_header_extensions_map")
            rtx_sequence_number = self._base("rtx_sequence_number")
            packet = wrap_rtx(RtpPacket.parse(packet, extensions), payload_type=rtx_payload_type,
                              sequence_number=rtx_sequence_number, ssrc=self._rtx_ssrc).serialize(extensions)
            self._set_base("rtx_sequence_number", uint16_add(rtx_sequence_number, 1))
        # through aiortc: a NACK may come after the send loop has ended and closed the direct route
        await self.transport._send_rtp(packet)
