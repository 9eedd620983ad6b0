"""Sending many UDP datagrams in few system calls, with Linux's UDP segmentation offload (UDP_SEGMENT).

One `sendmsg` carries a run of datagrams of equal size (the last may be shorter); the kernel, or the network
card, cuts it into the datagrams. A frame of live video is 20-300 datagrams of nearly one size, and one
`sendto` each was half of a viewer's server cost.
"""

from __future__ import annotations

import errno
import logging
import socket
import struct
from collections.abc import Iterator, Sequence

log = logging.getLogger(__name__)

UDP_SEGMENT = 103  # linux/udp.h; Python's socket module has no name for it
MAX_SEGMENTS = 64  # UDP_MAX_SEGMENTS in older kernels; newer ones allow more
MAX_RUN_BYTES = 65_000  # one IP packet's payload before segmentation, with room for the headers
# what a kernel or a route without segmentation answers; the datagrams then go one by one
_UNSUPPORTED = {errno.EIO, errno.EINVAL, errno.ENOPROTOOPT, errno.EOPNOTSUPP}


def runs(datagrams: Sequence[bytes]) -> Iterator[Sequence[bytes]]:
    """Consecutive datagrams that can go in one call: the same size, except the last, which may be shorter."""
    start = 0
    while start < len(datagrams):
        size = len(datagrams[start])
        end, total = start + 1, size
        while end < len(datagrams) and end - start < MAX_SEGMENTS and total + len(datagrams[end]) <= MAX_RUN_BYTES:
            length = len(datagrams[end])
            if length > size:
                break
            end, total = end + 1, total + length
            if length < size:
                break
        yield datagrams[start:end]
        start = end


class SegmentingSocket:
    """Sends datagrams on a non-blocking UDP socket, which it closes when closed."""

    def __init__(self, udp: socket.socket) -> None:
        self._socket = udp
        self.segmenting = _knows_segmentation(udp)

    def send(self, datagrams: Sequence[bytes], address: tuple[str, int]) -> int:
        """Send datagrams in order; returns how many went out before the socket refused one (its buffer full,
        the network unreachable): the caller hands the rest to a sender that queues them or reports why."""
        sent = 0
        try:
            for run in runs(datagrams):
                if len(run) > 1 and self.segmenting and self._send_run(run, address):
                    sent += len(run)
                    continue
                for datagram in run:
                    self._socket.sendto(datagram, address)
                    sent += 1
        except OSError:
            pass
        return sent

    def _send_run(self, run: Sequence[bytes], address: tuple[str, int]) -> bool:
        """One call for the run; False when this socket cannot segment, which is remembered."""
        control = [(socket.SOL_UDP, UDP_SEGMENT, struct.pack("=H", len(run[0])))]
        try:
            self._socket.sendmsg([b"".join(run)], control, 0, address)
        except OSError as error:
            if error.errno not in _UNSUPPORTED:
                raise
            log.info("UDP segmentation refused (%s): sending datagrams one by one", error.strerror)
            self.segmenting = False
            return False
        return True

    def close(self) -> None:
        self._socket.close()


def _knows_segmentation(udp: socket.socket) -> bool:
    """Whether the kernel has UDP_SEGMENT (Linux 4.18 and later). One without it ignores the option in
    `sendmsg` and sends the whole run as one oversized datagram, so it has to be asked beforehand."""
    try:
        udp.getsockopt(socket.SOL_UDP, UDP_SEGMENT)
    except OSError:
        log.info("this kernel has no UDP segmentation: sending datagrams one by one")
        return False
    return True
