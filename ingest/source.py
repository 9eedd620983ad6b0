"""Opening a camera stream: RTSP cameras, local files and demo scenes through one code path.

Files and demo scenes behave like cameras by default: replayed at their own frame rate, looping
forever with timestamps that keep increasing. Benchmarks turn pacing and looping off. A camera's audio
track (its microphone) comes along with the video; files are replayed without theirs.
"""

from __future__ import annotations

import errno
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from urllib.parse import urlsplit

import av
import av.audio.stream
import av.container
import av.video.stream

from ingest.link_watch import Link, opened_with_link
from ingest.urls import NETWORK_SCHEMES, Transport, file_path


class SourceError(Exception):
    """The stream cannot be used (no video, unsupported codec, ...)."""


class StallError(SourceError):
    """Other tracks still arrive but the video has stopped."""


class TransportRefused(SourceError):
    """The camera does not send RTP the way we asked (RTSP 461)."""


TRIED: dict[str, tuple[str, ...]] = {"auto": ("tcp", "udp"), "tcp": ("tcp",), "udp": ("udp",)}


@dataclass(frozen=True)
class SourceOptions:
    connect_timeout: float = 5.0
    read_timeout: float = 5.0
    demo_dir: Path = Path("data/demo")
    realtime: bool = True  # files: replay at the recorded frame rate (a camera's pace)
    loop: bool = True  # files: start again at the end, like a camera that never stops
    clock_tolerance: float = 2.0  # seconds a camera's own clock may differ from the station's
    transport: Transport = "auto"  # RTSP: RTP over the RTSP connection (tcp), over UDP, or tcp then udp


class OpenedSource:
    """An open container, its video stream and a live source's audio stream (None: the camera has no
    microphone); iterate `packets()` for their packets."""

    def __init__(self, container: av.container.InputContainer, *, live: bool, options: SourceOptions,
                 transport: str | None = None, link: Link | None = None) -> None:
        self.container = container
        self.live = live
        self.transport = transport  # "tcp" or "udp" for RTSP; None for a file
        self._options = options
        self._link = link or Link([])  # RTSP: the sockets to the camera, cut when it trickles (ingest/link_watch.py)
        videos = container.streams.video
        if not videos:
            raise SourceError("the stream has no video track")
        self.stream: av.video.stream.VideoStream = videos[0]
        if self.stream.time_base is None:
            raise SourceError("the video track has no time base")
        self.time_base: Fraction = self.stream.time_base
        audios = container.streams.audio
        self.audio: av.audio.stream.AudioStream | None = audios[0] if live and audios else None

    def close(self) -> None:
        try:
            self.container.close()
        finally:
            self._link.close()

    def interrupt(self) -> None:
        """End a read FFmpeg waits in (any thread): the stream ends, as when the camera closes it."""
        self._link.interrupt()

    def camera_time(self, packet: av.Packet) -> float | None:
        """The camera's own wall time (UTC s) of a packet, once its first RTCP sender report has come.

        FFmpeg's RTSP demuxer gives the NTP time of timestamp zero, from the first report, as
        `start_time_realtime` (microseconds). With one track it leaves timestamps on the camera's RTP
        clock, so this follows that clock from the first report on; with several tracks it rewrites
        them through every report (rtpdec.c, finalize_packet)."""
        origin = self.container.start_time_realtime if self.live else None
        if origin is None or packet.dts is None:
            return None
        return origin / 1e6 + float(packet.dts * self.time_base)

    def packets(self, stop: threading.Event, stall_seconds: float) -> Iterator[av.Packet]:
        """Video packets and `audio`'s, with timestamps (`packet.stream` tells which); a live stream's end is
        the end, a file is paced and looped. With several tracks FFmpeg puts them on one timeline through
        the camera's RTCP sender reports, so audio and video timestamps can be compared."""
        if self.live:
            yield from self._timed_packets(stop, stall_seconds)
        else:
            yield from self._replayed(stop, stall_seconds)

    def _frame_ticks(self) -> int:
        """One frame's duration in time-base units, for packets that carry none."""
        rate = self.stream.average_rate or self.stream.guessed_rate
        time_base = self.stream.time_base
        return max(1, round(1 / (rate * time_base))) if rate and time_base else 1

    def _timed_packets(self, stop: threading.Event, stall_seconds: float) -> Iterator[av.Packet]:
        """One pass over the container. RTSP delivers the first keyframe without timestamps (before the
        first RTCP report); it gets the time of one frame before the packet that follows, not dropped."""
        untimed: av.Packet | None = None
        link = self._link
        link.watch(stall_seconds)  # the link keeps the last picture's time, for the watch and for the check below
        try:
            for packet in self.container.demux():
                if stop.is_set():
                    return
                if link.cut:  # what FFmpeg gives after the cut is what it had part read: a cut frame, the end's flush
                    break
                if packet.stream is not self.stream or packet.size == 0:
                    if time.monotonic() - link.last_video > stall_seconds:
                        raise StallError(f"no video for {stall_seconds:.0f} s (stalled stream)")
                    if packet.stream is self.audio and packet.dts is not None and packet.size:
                        yield packet
                    continue
                link.last_video = time.monotonic()
                if packet.dts is None:
                    untimed = packet if packet.is_keyframe else untimed
                    continue
                if untimed is not None:
                    untimed.dts = untimed.pts = packet.dts - (packet.duration or self._frame_ticks())
                    yield untimed
                    untimed = None
                yield packet
        except (av.FFmpegError, OSError):
            if not link.cut:
                raise
        if link.cut and not stop.is_set():  # the watch cut a link that kept FFmpeg reading a trickle
            raise StallError(f"no video for {stall_seconds:.0f} s while the camera still sent a little "
                             "(a trickling link): connecting again")

    def _replayed(self, stop: threading.Event, stall_seconds: float) -> Iterator[av.Packet]:
        """A file as a camera: at its own frame rate, looping with timestamps that keep increasing. Where the file's
        own go back or stand still (clips joined end to end, a broken muxer) they go on from the last instead:
        paced on them, such a file was replayed as fast as it could be read, and recorded with times to come."""
        offset = 0  # added to every timestamp (after a loop, a step back), in time-base units
        pace_start: tuple[float, int] | None = None  # (monotonic s, first dts)
        time_base = float(self.time_base)
        last: int | None = None  # the last timestamp given, and the step after it
        frame = self._frame_ticks()
        step = frame
        while not stop.is_set():
            first_dts: int | None = None
            for packet in self._timed_packets(stop, stall_seconds):
                dts = packet.dts
                assert dts is not None, "_timed_packets times every packet"
                first_dts = dts if first_dts is None else first_dts
                if last is not None and dts + offset <= last:
                    offset = last + step - dts
                step = packet.duration or frame
                packet.pts = (packet.pts if packet.pts is not None else dts) + offset
                packet.dts = last = dts + offset
                if self._options.realtime:
                    pace_start = pace_start or (time.monotonic(), packet.dts)
                    due = pace_start[0] + (packet.dts - pace_start[1]) * time_base
                    if stop.wait(max(0.0, due - time.monotonic())):
                        return
                yield packet
            if not self._options.loop or last is None or first_dts is None:
                return
            offset = last + step - first_dts
            self.container.seek(0)


def open_source(url: str, options: SourceOptions) -> OpenedSource:
    """Open `url`; raises av.FFmpegError / OSError / SourceError with the cause."""
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme in NETWORK_SCHEMES:
        return _open_rtsp(url, options)
    if scheme == "demo":
        from ingest.demo import ensure_demo_video  # scene rendering is only loaded when a demo camera is used

        path = ensure_demo_video(parts.netloc, options.demo_dir)
    elif scheme == "file":
        path = file_path(url)
    else:
        raise SourceError(f"unsupported URL scheme {scheme!r}")
    container = av.open(str(path), timeout=(options.connect_timeout, options.read_timeout))
    return _checked(container, live=False, options=options)


def _open_rtsp(url: str, options: SourceOptions) -> OpenedSource:
    """Open with each transport `options.transport` allows, in turn; the next is tried only when the camera
    refused the transport (not when it is down or refused the password: that would only double the wait)."""
    *first, last = TRIED[options.transport]
    try:
        for transport in first:
            try:
                return _open_over(url, transport, options)
            except TransportRefused:
                continue
        return _open_over(url, last, options)
    except av.FFmpegError as exc:
        if exc.errno == errno.EIO and (unresolved := _unresolved(url)) is not None:
            raise SourceError(unresolved) from None
        raise


def _unresolved(url: str) -> str | None:
    """Why the camera's host name does not resolve, or None if it does. FFmpeg reports a name it cannot resolve
    as "Input/output error", as it does many other failures (an audit: an installer's typo read as a disk fault);
    asked only after a failed open (the worker's own thread: the lookup may wait on DNS)."""
    try:
        host = urlsplit(url).hostname
    except ValueError:
        return None
    if not host:
        return None
    try:
        socket.getaddrinfo(host, None)
    except socket.gaierror as exc:
        return f"the camera's host name {host!r} does not resolve ({exc.strerror})"
    return None


def _open_over(url: str, transport: str, options: SourceOptions) -> OpenedSource:
    """The read timeout is the RTSP socket's own (`timeout`, in µs), not PyAV's: PyAV checks its timeout in an
    interrupt callback that FFmpeg calls several times per RTP packet and that takes the GIL each time, which
    every camera thread of the process then contends for (design/runtime.md). PyAV's serves the connect."""
    started = time.monotonic()
    try:
        container, link = opened_with_link(url, lambda: av.open(
            url, options={"rtsp_transport": transport, "analyzeduration": "1000000",
                          "timeout": str(round(options.read_timeout * 1e6))},
            timeout=(options.connect_timeout, None)))
    except av.InvalidDataError as exc:
        limit = min(options.connect_timeout, options.read_timeout)  # whichever of PyAV's and the socket's fires first
        if time.monotonic() - started >= 0.9 * limit:  # FFmpeg's word for a silent server
            raise SourceError(f"the camera accepted the connection but did not answer within {limit:g} s "
                              "(timed out)") from exc
        raise
    except OSError as exc:
        if exc.errno == errno.EPROTONOSUPPORT:  # FFmpeg's answer to RTSP 461 Unsupported Transport
            hint = "; set transport: udp (or auto)" if transport == "tcp" else ""
            raise TransportRefused(f"the camera refused RTP over {transport.upper()} ({exc.strerror}){hint}") from exc
        raise
    return _checked(container, live=True, options=options, transport=transport, link=link)


def _checked(container: av.container.InputContainer, *, live: bool, options: SourceOptions,
             transport: str | None = None, link: Link | None = None) -> OpenedSource:
    try:
        return OpenedSource(container, live=live, options=options, transport=transport, link=link)
    except Exception:
        container.close()
        if link is not None:
            link.close()
        raise
