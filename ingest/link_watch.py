"""Ending a read that a trickling link holds.

A camera whose link trickles (a byte now and then: a failing radio link, a saturated uplink) keeps every socket
read within FFmpeg's timeout, and FFmpeg waits inside one read for the rest of a packet: the worker neither got a
packet to notice the stall by, nor reconnected, nor stopped when asked (design/runtime.md). PyAV's interrupt
callback is not reachable from Python (18.1), and FFmpeg does not give out its sockets. So the open of an RTSP
stream notes the socket it made to the camera (found in /proc/self/fd, told by its peer), and one thread of the
process shuts it down when the stream's video has stopped for its stall limit, or at once when the worker is asked
to stop: FFmpeg's read then ends, and the worker reconnects (or stops).

Opens to one camera address wait for each other only until the socket of the first is seen (the TCP connect, a few
milliseconds): a recorder with sixteen channels of one DVR opens them side by side, as before (an open takes about
1.2 s, most of it FFmpeg probing the stream).
"""

from __future__ import annotations

import contextlib
import os
import socket
import stat
import threading
import time
from collections.abc import Callable, Iterator
from typing import TypeVar
from urllib.parse import urlsplit

DEFAULT_PORTS = {"rtsp": 554, "rtsps": 322}
CHECK_SECONDS = 0.5  # how often the watch looks at the links
LOOK_FIRST, LOOK_MAX = 0.005, 0.1  # s between looks for the socket of an open under way, growing
WAIT_FOR_OTHERS = 2.0  # s an open waits for another to the same address; then it goes on without a watch
T = TypeVar("T")
Listed = tuple[int, int]  # (fd, inode) of a socket of this process


class Link:
    """The TCP socket(s) of one RTSP session, as FFmpeg's (fd, inode), and when its last picture came."""

    def __init__(self, sockets: list[Listed]) -> None:
        self._sockets = sockets
        self._lock = threading.Lock()
        self.last_video = time.monotonic()
        self.limit_seconds: float | None = None  # watched while set: cut once no video came for this long
        self.cut = False  # shut down by the watch or by `interrupt`

    def interrupt(self) -> None:
        """Shut the sockets down: a read FFmpeg is waiting in ends (each socket stays FFmpeg's to close)."""
        with self._lock:
            if self.cut or not self._sockets:
                return
            self.cut = True
            for listed in self._sockets:
                sock = _duplicate(listed)
                if sock is not None:  # else closed already (and its fd perhaps given to another socket)
                    with contextlib.suppress(OSError):  # shut down by the peer already
                        sock.shutdown(socket.SHUT_RDWR)
                    sock.close()

    def close(self) -> None:
        """The session is closed: nothing to watch, nothing to cut."""
        _watch.forget(self)
        with self._lock:
            self._sockets = []

    def watch(self, limit_seconds: float) -> None:
        """Cut the link once no video came for `limit_seconds` (`last_video`, which the reader keeps)."""
        self.last_video = time.monotonic()
        self.limit_seconds = limit_seconds
        if self._sockets:
            _watch.add(self)


def opened_with_link(url: str, open_call: Callable[[], T]) -> tuple[T, Link]:
    """`open_call()` (FFmpeg opening `url`), and the link of the TCP socket it made to the camera. Empty where the
    socket cannot be told (no /proc, a name that does not resolve, another open to the address slow to connect);
    the open is made all the same."""
    parts = urlsplit(url)
    try:
        port = parts.port or DEFAULT_PORTS.get(parts.scheme.lower(), 554)
    except ValueError:
        return open_call(), Link([])
    host = parts.hostname or ""
    peers = _addresses(host, port)
    with _locks_guard:
        lock = _locks.setdefault((host, port), threading.Lock())
    if not peers or not lock.acquire(timeout=WAIT_FOR_OTHERS):
        return open_call(), Link([])
    before = set(_socket_inodes())
    found: list[Listed] = []
    opened = threading.Event()

    def look() -> None:  # until this open's socket is there: then the next open to the address may begin
        try:
            pause = LOOK_FIRST
            while not found and not opened.wait(pause):
                found.extend(_connected_to(before, peers))
                pause = min(LOOK_MAX, pause * 1.5)
            if not found:
                found.extend(_connected_to(before, peers))
        finally:
            lock.release()

    looking = threading.Thread(target=look, name="link-look", daemon=True)
    looking.start()
    try:
        result = open_call()
    finally:
        opened.set()
        looking.join()
    return result, Link(found)


_locks: dict[tuple[str, int], threading.Lock] = {}
_locks_guard = threading.Lock()


def _socket_inodes() -> Iterator[Listed]:
    """(fd, inode) of this process's sockets."""
    try:
        names = os.listdir("/proc/self/fd")
    except OSError:
        return
    for name in names:
        try:
            found = os.stat(f"/proc/self/fd/{name}")
        except OSError:  # closed meanwhile
            continue
        if stat.S_ISSOCK(found.st_mode):
            yield int(name), found.st_ino


def _duplicate(listed: Listed) -> socket.socket | None:
    """A duplicate of the socket listed, if its fd still is that socket (an fd closed is given again)."""
    fd, inode = listed
    try:
        copy = os.dup(fd)
    except OSError:
        return None
    if os.fstat(copy).st_ino != inode:
        os.close(copy)
        return None
    return socket.socket(fileno=copy)


def _connected_to(before: set[Listed], peers: set[tuple[str, int]]) -> list[Listed]:
    """The sockets not in `before` connected to one of `peers`."""
    found = []
    for listed in set(_socket_inodes()) - before:
        sock = _duplicate(listed)
        if sock is None:
            continue
        with sock:
            if _peer(sock) in peers:
                found.append(listed)
    return found


def _peer(sock: socket.socket) -> tuple[str, int] | None:
    """The socket's remote address and port (an IPv4 address mapped into IPv6 as IPv4), None if unconnected."""
    try:
        address, port, *_ = sock.getpeername()
    except (OSError, ValueError, TypeError):  # not connected, or not an internet socket
        return None
    return str(address).removeprefix("::ffff:"), int(port)


def _addresses(host: str, port: int) -> set[tuple[str, int]]:
    """Where `host` resolves to, at `port`."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except OSError:
        return set()
    return {(str(info[4][0]).removeprefix("::ffff:"), port) for info in infos}


class _Watch:
    """One thread for every watched link of the process, started with the first."""

    def __init__(self) -> None:
        self._links: set[Link] = set()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None

    def add(self, link: Link) -> None:
        with self._lock:
            self._links.add(link)
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="link-watch", daemon=True)
                self._thread.start()

    def forget(self, link: Link) -> None:
        with self._lock:
            self._links.discard(link)

    def _run(self) -> None:
        while True:
            time.sleep(CHECK_SECONDS)
            now = time.monotonic()
            with self._lock:
                due = [link for link in self._links
                       if link.limit_seconds is not None and now - link.last_video > link.limit_seconds]
                self._links.difference_update(due)
            for link in due:
                link.interrupt()


_watch = _Watch()
