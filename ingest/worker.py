"""One thread per camera stream: connect, read packets, hand them to sinks, reconnect on failure."""

from __future__ import annotations

import logging
import random
import threading
import time
from collections.abc import Callable, Sequence
from typing import Protocol

import av
import av.audio.stream
import av.stream

from ingest.clock import ReceiveClock, Stamp
from ingest.clock_check import ClockCheck
from ingest.source import OpenedSource, SourceError, SourceOptions, open_source
from ingest.status import StreamStatus
from ingest.urls import redact_text, redact_url

log = logging.getLogger(__name__)
STABLE_SECONDS = 10.0  # a connection that lasted this long resets the backoff
SAID_AGAIN_SECONDS = 600.0  # a camera failing the same way is logged again this often
STREAM_ENDED = "stream ended (the camera closed the connection)"  # why a live stream's connection ended, by itself


class PacketSink(Protocol):
    """Receives one stream's packets. Calls come from the worker thread, in order."""

    def start(self, stream: av.stream.Stream) -> None:
        """A new run of continuous packets begins (connect, or after a timestamp jump)."""

    def packet(self, packet: av.Packet, stamp: Stamp) -> None: ...

    def stop(self, reason: str) -> None:
        """The run ended (disconnect, stall, shutdown); `reason` is safe to show."""


class AudioSink(Protocol):
    """Also receives the stream's audio, when the camera sends some; a PacketSink too, whose `start` and
    `stop` bound the run. Audio packets keep their camera timestamps, on the video's timeline (see
    OpenedSource.packets): a segment places them against its first video packet, not by wall time."""

    def start_audio(self, stream: av.audio.stream.AudioStream) -> None:
        """The run that just started carries this audio track (called right after `start`)."""

    def audio(self, packet: av.Packet) -> None: ...


class Backoff:
    """Exponential reconnect delay with jitter, never above `maximum`."""

    def __init__(self, minimum: float, maximum: float) -> None:
        self.minimum, self.maximum = minimum, maximum
        self.failures = 0

    def next_delay(self) -> float:
        delay = min(self.maximum, self.minimum * 2 ** self.failures)
        self.failures += 1
        return delay * random.uniform(0.75, 1.0)

    def reset(self) -> None:
        self.failures = 0


class StreamWorker:
    """Keeps one camera stream flowing into its sinks until `stop()`; one broken camera affects nobody else."""

    def __init__(self, camera: str, role: str, url: str, options: SourceOptions, *,
                 stall_seconds: float, backoff: Backoff, sinks: list[PacketSink],
                 audio_sinks: Sequence[AudioSink] = (),
                 on_state: Callable[[str, str | None], None] | None = None) -> None:
        """`audio_sinks`: those of `sinks` that also take the audio track."""
        self.camera, self.role = camera, role
        self._url = url
        self._options = options
        self._stall = stall_seconds
        self._backoff = backoff
        self._sinks = sinks
        self._audio_sinks = audio_sinks
        self._hearing: list[AudioSink] = []  # the audio sinks of this run that have not failed
        self._on_state = on_state
        self.status = StreamStatus(stall_seconds)
        self._running = False  # sinks have been started for the current connection
        self._said: tuple[str | None, float] = (None, 0.0)  # the failure last logged, and when (monotonic)
        self._attempts = 0  # failed the same way since
        self._stop = threading.Event()
        self._source: OpenedSource | None = None  # the connection open now
        self._thread = threading.Thread(target=self._run, name=f"ingest-{camera}-{role}", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        source = self._source
        if source is not None:  # a read held by a trickling link ends now
            source.interrupt()

    def join(self, timeout: float | None = None) -> None:
        self._thread.join(timeout)

    def _notify(self, state: str, reason: str | None) -> None:
        if self._on_state is not None:
            try:
                self._on_state(state, reason)
            except Exception:
                log.exception("%s/%s: state callback failed", self.camera, self.role)

    def _run(self) -> None:
        while not self._stop.is_set():
            self.status.connecting()
            started = time.monotonic()
            reason = self._session()
            if self._stop.is_set():
                break
            self.status.offline(reason)
            self._notify("offline", reason)
            self._say_offline(reason)
            if time.monotonic() - started >= STABLE_SECONDS:
                self._backoff.reset()
            self._stop.wait(self._backoff.next_delay())

    def _say_offline(self, reason: str) -> None:
        """Once a failure, again every SAID_AGAIN_SECONDS while the same one lasts: a camera failing the same way
        wrote a warning at every attempt, 24 lines a minute (an audit)."""
        now = time.monotonic()
        if reason == self._said[0] and now - self._said[1] < SAID_AGAIN_SECONDS:
            self._attempts += 1
            return
        again = f" (still, {self._attempts + 1} attempts)" if reason == self._said[0] else ""
        log.warning("%s/%s offline: %s%s", self.camera, self.role, reason, again)
        self._said, self._attempts = (reason, now), 0

    def _session(self) -> str:
        """One connection from open to end; returns why it ended (credentials removed)."""
        source: OpenedSource | None = None
        self._running = False
        reason = "stopped"
        try:
            source = self._source = open_source(self._url, self._options)
            if self._stop.is_set():  # asked to stop while it opened
                return "stopped"
            reason = STREAM_ENDED if source.live else "file ended"
            self._pump(source)
        except (av.ExitError, TimeoutError):  # our timeout fired: PyAV's interrupt, or the RTSP socket's (reading)
            reason = (f"no data from the camera for {self._options.read_timeout:g} s or more (read timeout)"
                      if source is not None else
                      f"the camera did not answer within {self._options.connect_timeout:g} s (connect timeout)")
        except (av.FFmpegError, OSError, SourceError) as exc:
            stage = "reading the stream" if source is not None else "opening the stream"
            reason = f"{stage} failed: {redact_text(failure_text(exc))}"
        except Exception as exc:  # a bug must not take the camera down for good
            log.exception("%s/%s: unexpected ingest error", self.camera, self.role)
            reason = f"internal error: {redact_text(str(exc))}"
        finally:
            self._source = None
            if source is not None:
                source.close()
        if self._running:  # also after an error mid-stream: the open segment must be closed and indexed
            self._each_sink(lambda sink: sink.stop(reason))
        return reason if not self._stop.is_set() else "stopped"

    def _pump(self, source: OpenedSource) -> None:
        """Forward packets until the stream ends (or raises)."""
        stream = source.stream
        clock = ReceiveClock(live=source.live)
        check = ClockCheck(self._options.clock_tolerance)
        time_base = float(source.time_base)
        codec = stream.codec_context.name if stream.codec_context else None
        audio_codec = source.audio.codec_context.name if source.audio is not None else None
        for packet in source.packets(self._stop, self._stall):
            assert packet.dts is not None, "packets() times every packet"
            if packet.stream is not stream:
                if self._running:  # nothing before the first picture: no sink has started
                    self._hear(packet)
                continue
            stamp = clock.stamp(float(packet.dts) * time_base, keyframe=packet.is_keyframe)
            if not self._running:
                self.status.online(stream.codec_context.width, stream.codec_context.height, codec, source.transport,
                                   audio_codec)
                self._notify("online", None)
                self._said = (None, 0.0)  # its next failure is news
                log.info("%s/%s online: %s%s%s", self.camera, self.role, redact_url(self._url),
                         f" (RTP over {source.transport.upper()})" if source.transport else "",
                         f", audio {audio_codec}" if audio_codec else "")
                self._start_sinks(source)
                self._running = True
            elif stamp.discontinuity:
                self._each_sink(lambda sink: sink.stop("camera timestamps jumped"))
                self._start_sinks(source)
            if packet.is_keyframe:
                self._check_clock(source, packet, stamp, check)
            self.status.packet(packet.size)
            for sink in self._sinks:
                self._guarded(sink, sink.packet, packet, stamp)

    def _check_clock(self, source: OpenedSource, packet: av.Packet, stamp: Stamp, check: ClockCheck) -> None:
        """Compare the camera's own time of a keyframe (when it sends RTCP reports) with the station's."""
        camera = source.camera_time(packet)
        if camera is None:
            return
        reading = check.read(camera, stamp.wall)
        self.status.clock(reading.offset_seconds, reading.beyond_tolerance)
        if reading.changed:
            log.log(logging.WARNING if reading.beyond_tolerance else logging.INFO,
                    "%s/%s: the camera's clock is %+.2f s off the station's (%s %g s); footage keeps the "
                    "station's time", self.camera, self.role, reading.offset_seconds,
                    "beyond the tolerance of" if reading.beyond_tolerance else "within", self._options.clock_tolerance)

    def _start_sinks(self, source: OpenedSource) -> None:
        self._each_sink(lambda sink: sink.start(source.stream))
        self._hearing = []
        if source.audio is not None:
            self._hearing = list(self._audio_sinks)
            for sink in self._audio_sinks:
                self._hear_with(sink, sink.start_audio, source.audio)

    def _hear(self, packet: av.Packet) -> None:
        for sink in list(self._hearing):
            self._hear_with(sink, sink.audio, packet)

    def _hear_with(self, sink: AudioSink, call: Callable[..., None], *args: object) -> None:
        """A sink whose audio fails hears no more of this run; the video goes on (logged once per run)."""
        try:
            call(*args)
        except Exception:
            log.exception("%s/%s: %s dropped the audio until the next connection", self.camera, self.role,
                          type(sink).__name__)
            if sink in self._hearing:
                self._hearing.remove(sink)

    def _each_sink(self, call: Callable[[PacketSink], None]) -> None:
        for sink in self._sinks:
            self._guarded(sink, call, sink)

    def _guarded(self, sink: PacketSink, call: Callable[..., None], *args: object) -> None:
        """A failing sink is logged and skipped: it must not stop the stream for the others."""
        try:
            call(*args)
        except Exception:
            log.exception("%s/%s: sink %s failed", self.camera, self.role, type(sink).__name__)


def failure_text(exc: Exception) -> str:
    """An error as a camera's status shows it: FFmpeg's own words, without its error number (a tag such as
    825242872 for "Server returned 401", which read as a system error number: an audit)."""
    if isinstance(exc, av.FFmpegError) and exc.strerror:
        return f"{exc.strerror}: {exc.filename!r}" if exc.filename else str(exc.strerror)
    return str(exc) or type(exc).__name__
