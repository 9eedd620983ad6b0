"""A frame's RTP packets encrypted and sent straight to the viewer's socket, a frame at a time.

aiortc sends each packet through four coroutines (DTLS, ICE transport, ICE connection, STUN protocol)
down to one `sendto`. For a connected peer on a plain UDP pair, this route encrypts the frame's packets
with the same SRTP session and hands them to `SegmentingSocket`, which sends each run of equal-sized
packets in one system call.

It reads private state of aiortc's DTLS transport and of aioice's connection (both pinned in
pyproject.toml). Where that state is not as expected, or the pair is relayed by TURN,
`DirectRoute.nominated_pair` returns None and the caller sends through aiortc.
"""

from __future__ import annotations

import asyncio
import os
import socket
from collections.abc import Sequence

from aioice.ice import CandidatePair
from aiortc.rtcdtlstransport import RTCDtlsTransport, State

from api.webrtc.udp_segments import SegmentingSocket

_COMPONENT_RTP = 1
_TX_BYTES, _TX_PACKETS = "_RTCDtlsTransport__tx_bytes", "_RTCDtlsTransport__tx_packets"


class DirectRoute:
    """The SRTP session and the UDP socket of one peer connection's nominated ICE pair."""

    def __init__(self, dtls: RTCDtlsTransport, pair: CandidatePair) -> None:
        self._dtls = dtls
        self.pair = pair
        self._transport: asyncio.DatagramTransport = pair.protocol.transport
        self._address = pair.remote_addr
        # a descriptor of its own: closing it leaves aioice's socket open
        self._socket = SegmentingSocket(socket.socket(fileno=os.dup(self._transport.get_extra_info("socket").fileno())))

    @staticmethod
    def nominated_pair(dtls: RTCDtlsTransport) -> CandidatePair | None:
        """The connected pair on a plain UDP socket, or None (not connected yet, relayed by TURN, unknown aioice)."""
        if not isinstance(dtls, RTCDtlsTransport) or dtls._state is not State.CONNECTED:
            return None
        connection = getattr(dtls.transport, "_connection", None)
        pair = getattr(connection, "_nominated", {}).get(_COMPONENT_RTP)
        if (not isinstance(pair, CandidatePair) or pair.local_candidate.type == "relay"
                or not hasattr(dtls, _TX_BYTES)):
            return None
        transport = getattr(pair.protocol, "transport", None)  # asyncio's or uvloop's datagram transport
        if transport is None or transport.is_closing() or transport.get_extra_info("socket") is None:
            return None
        return pair

    def send(self, packets: Sequence[bytes]) -> None:
        """Encrypt and send, in order; what the socket refuses goes through the event loop's transport, which
        queues it while the buffer is full and reports errors the way aioice expects."""
        protect = self._dtls._tx_srtp.protect
        encrypted = [protect(packet) for packet in packets]
        # behind data already queued in the transport, the socket would jump the queue
        # typeshed's DatagramTransport lacks get_write_buffer_size; asyncio's and uvloop's UDP transports have it
        buffered = self._transport.get_write_buffer_size()  # type: ignore[attr-defined]
        sent = self._socket.send(encrypted, self._address) if not buffered else 0
        for packet in encrypted[sent:]:
            self._transport.sendto(packet, self._address)
        setattr(self._dtls, _TX_BYTES, getattr(self._dtls, _TX_BYTES) + sum(map(len, encrypted)))
        setattr(self._dtls, _TX_PACKETS, getattr(self._dtls, _TX_PACKETS) + len(encrypted))

    def close(self) -> None:
        self._socket.close()
