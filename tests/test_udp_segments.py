"""Many datagrams in few system calls: grouping, delivery on a real socket, and the fallbacks."""

from __future__ import annotations

import errno
import os
import socket
import struct
from collections.abc import Iterator

import pytest

from api.webrtc.udp_segments import MAX_RUN_BYTES, MAX_SEGMENTS, SegmentingSocket, runs


def sizes_of_runs(sizes: list[int]) -> list[list[int]]:
    return [[len(d) for d in run] for run in runs([bytes(size) for size in sizes])]


def test_a_run_is_equal_sizes_ending_with_at_most_one_shorter() -> None:
    # aiortc splits a large NAL unit into fragments one byte apart, the larger first
    assert sizes_of_runs([1001, 1001, 1000, 1000, 1000, 400, 1200, 60]) == [
        [1001, 1001, 1000], [1000, 1000, 400], [1200, 60]]
    assert sizes_of_runs([20, 1200, 1200]) == [[20], [1200, 1200]]
    assert sizes_of_runs([]) == []


def test_a_run_stays_within_the_kernels_limits() -> None:
    assert [len(run) for run in sizes_of_runs([100] * 100)] == [MAX_SEGMENTS, 100 - MAX_SEGMENTS]
    per_run = MAX_RUN_BYTES // 1200
    assert [len(run) for run in sizes_of_runs([1200] * 60)] == [per_run, 60 - per_run]


@pytest.fixture
def receiver() -> Iterator[socket.socket]:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind(("127.0.0.1", 0))
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 20)
        sock.settimeout(5)
        yield sock


class CountingSocket(socket.socket):
    """A real UDP socket that counts its system calls."""

    calls = 0

    def sendmsg(self, *args, **kwargs) -> int:
        self.calls += 1
        return super().sendmsg(*args, **kwargs)

    def sendto(self, *args, **kwargs) -> int:
        self.calls += 1
        return super().sendto(*args, **kwargs)


def test_datagrams_arrive_one_by_one_as_sent(receiver: socket.socket) -> None:
    frame = [os.urandom(size) for size in [30, *[1201] * 7, *[1200] * 20, 700]]  # STAP-A, then one NAL unit
    udp = CountingSocket(socket.AF_INET, socket.SOCK_DGRAM)
    udp.setblocking(False)
    sender = SegmentingSocket(udp)
    try:
        assert sender.send(frame, receiver.getsockname()) == len(frame)
        assert [receiver.recv(2048) for _ in frame] == frame
        if sender.segmenting:  # Linux 4.18 and later, unless the route refused
            assert udp.calls == 3, "the STAP-A, then two runs"
    finally:
        sender.close()
    assert udp.fileno() == -1


class FakeSocket:
    """A UDP socket whose kernel may lack segmentation (`knows`), refuse a segmented send (`refusal`), and
    whose buffer fills after `room` datagrams."""

    def __init__(self, *, knows: bool = True, refusal: int | None = None, room: int = 1000) -> None:
        self.knows, self.refusal, self.room = knows, refusal, room
        self.sent: list[bytes] = []
        self.segmented_sends = 0

    def getsockopt(self, level: int, option: int) -> int:
        if not self.knows:
            raise OSError(errno.ENOPROTOOPT, "Protocol not available")
        return 0

    def sendmsg(self, buffers: list[bytes], control: list[tuple[int, int, bytes]], flags: int,
                address: tuple[str, int]) -> int:
        self.segmented_sends += 1
        if self.refusal is not None:
            raise OSError(self.refusal, os.strerror(self.refusal))
        (size,) = struct.unpack("=H", control[0][2])
        data = buffers[0]
        return sum(self._take(data[i:i + size]) for i in range(0, len(data), size)) if self._fits(data, size) else 0

    def sendto(self, datagram: bytes, address: tuple[str, int]) -> int:
        return self._take(datagram)

    def _fits(self, data: bytes, size: int) -> bool:
        if len(self.sent) + -(-len(data) // size) > self.room:
            raise BlockingIOError(errno.EAGAIN, "Resource temporarily unavailable")
        return True

    def _take(self, datagram: bytes) -> int:
        self._fits(datagram, len(datagram))
        self.sent.append(datagram)
        return len(datagram)


FRAME = [bytes([i]) * 1200 for i in range(10)]


@pytest.mark.parametrize("error", [errno.EIO, errno.EINVAL])
def test_a_refused_segmented_send_goes_one_by_one_from_then_on(error: int) -> None:
    udp = FakeSocket(refusal=error)
    sender = SegmentingSocket(udp)  # type: ignore[arg-type]
    assert sender.send(FRAME, ("127.0.0.1", 9)) == 10
    assert sender.send(FRAME, ("127.0.0.1", 9)) == 10
    assert udp.sent == FRAME + FRAME
    assert udp.segmented_sends == 1


def test_a_kernel_without_segmentation_is_never_asked_to_segment() -> None:
    udp = FakeSocket(knows=False, refusal=errno.EIO)
    sender = SegmentingSocket(udp)  # type: ignore[arg-type]
    assert sender.send(FRAME, ("127.0.0.1", 9)) == 10
    assert udp.sent == FRAME and udp.segmented_sends == 0


def test_a_full_buffer_stops_the_send_and_says_how_far_it_got() -> None:
    udp = FakeSocket(room=14)
    sender = SegmentingSocket(udp)  # type: ignore[arg-type]
    two_runs = [*FRAME, bytes(500), *FRAME]
    assert sender.send(two_runs, ("127.0.0.1", 9)) == 11, "the first run fit, the second did not"
    assert udp.sent == two_runs[:11]
    one_by_one = SegmentingSocket(FakeSocket(knows=False, room=4))  # type: ignore[arg-type]
    assert one_by_one.send(FRAME, ("127.0.0.1", 9)) == 4


def test_a_network_error_stops_the_send_for_the_caller_to_report() -> None:
    sender = SegmentingSocket(FakeSocket(refusal=errno.ENETUNREACH))  # type: ignore[arg-type]
    assert sender.send(FRAME, ("127.0.0.1", 9)) == 0
    assert sender.segmenting, "an unreachable network says nothing about segmentation"
