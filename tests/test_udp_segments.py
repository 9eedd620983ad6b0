"""Many datagrams in few system calls: grouping, delivery on a real socket, and the fallbacks."""

from __future__ import annotations

import errno
import os
import socket
from collections.abc import Iterator

import pytest

from api.udp_segments import MAX_RUN_BYTES, MAX_SEGMENTS, SegmentingSocket, runs


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

    def sendmsg(self, *args, **kwargs) -> int:  # type: ignore[no-untyped-def, override]
        self.calls += 1
        return super().sendmsg(*args, **kwargs)

    def sendto(self, *args, **kwargs) -> int:  # type: ignore[no-untyped-def, override]
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
        assert udp.calls == 3, "the STAP-A, then two runs"
    finally:
        sender.close()
    assert udp.fileno() == -1


class RefusingSocket:
    """A socket whose kernel cannot segment, or whose buffer fills after `room` datagrams."""

    def __init__(self, segmentation_error: int | None, room: int = 1000) -> None:
        self.segmentation_error = segmentation_error
        self.room = room
        self.sent: list[bytes] = []
        self.segmenting_tries = 0

    def sendmsg(self, buffers: list[bytes], control: list, flags: int, address: tuple[str, int]) -> int:
        self.segmenting_tries += 1
        if self.segmentation_error is not None:
            raise OSError(self.segmentation_error, os.strerror(self.segmentation_error))
        raise AssertionError("only the refusal is faked")

    def sendto(self, datagram: bytes, address: tuple[str, int]) -> int:
        if len(self.sent) == self.room:
            raise BlockingIOError(errno.EAGAIN, "full")
        self.sent.append(datagram)
        return len(datagram)


@pytest.mark.parametrize("error", [errno.EIO, errno.EINVAL])
def test_without_segmentation_datagrams_go_one_by_one_from_then_on(error: int) -> None:
    udp = RefusingSocket(error)
    sender = SegmentingSocket(udp)  # type: ignore[arg-type]
    frame = [bytes([i]) * 1200 for i in range(10)]
    assert sender.send(frame, ("127.0.0.1", 9)) == 10
    assert sender.send(frame, ("127.0.0.1", 9)) == 10
    assert udp.sent == frame + frame
    assert udp.segmenting_tries == 1


def test_a_full_send_buffer_stops_the_send_and_says_how_far_it_got() -> None:
    udp = RefusingSocket(errno.EIO, room=4)
    sender = SegmentingSocket(udp)  # type: ignore[arg-type]
    assert sender.send([bytes(1200)] * 10, ("127.0.0.1", 9)) == 4


def test_other_errors_are_raised() -> None:
    sender = SegmentingSocket(RefusingSocket(errno.ENETUNREACH))  # type: ignore[arg-type]
    with pytest.raises(OSError, match="unreachable"):
        sender.send([bytes(1200)] * 3, ("127.0.0.1", 9))
