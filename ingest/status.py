"""Per-stream health as the operator sees it: state, since when, why, frame rate and bitrate."""

from __future__ import annotations

import threading
import time
from collections import deque
from dataclasses import dataclass, replace
from typing import Literal

from ingest.urls import redact_text

State = Literal["connecting", "online", "offline"]
RATE_WINDOW_SECONDS = 5.0


@dataclass(frozen=True)
class StatusSnapshot:
    state: State
    since: float  # UTC seconds
    last_error: str | None
    fps: float
    bitrate_kbps: float
    width: int | None
    height: int | None
    codec: str | None
    clock_offset_seconds: float | None = None  # the camera's own clock minus the station's (RTCP); None: unknown
    clock_beyond_tolerance: bool = False  # the offset is beyond ingest.clock_tolerance_seconds
    transport: str | None = None  # how RTP comes: "tcp" (interleaved in the RTSP connection) or "udp"; None: a file
    reconnects: int = 0  # times the stream was lost after it had been flowing (each loss is followed by reconnecting)
    last_frame: float | None = None  # UTC seconds of the newest video packet; None: none yet
    audio_codec: str | None = None  # the camera's audio track as FFmpeg names it ("aac", "pcm_alaw", ...); None: none
    offline_cause: str | None = None  # the error that took it offline, kept through the failed attempts that follow


class StreamStatus:
    """Thread-safe status written by an ingest worker and read by the API.

    With `stall_seconds`, a stream online whose last video packet is older than that reads as offline, stalled:
    a camera sending a byte a second (a failing link) keeps each read within the socket's timeout yet makes no
    packet for minutes: it stayed online, no alert. (The link is also cut then: ingest/link_watch.py.)"""

    def __init__(self, stall_seconds: float | None = None) -> None:
        self._stall_seconds = stall_seconds
        self._lock = threading.Lock()
        self._state: State = "connecting"
        self._since = time.time()
        self._error: str | None = None
        # why it went offline: `_error` is the latest attempt's failure, which replaces the first within a second or two
        # (a hung camera times out on reading, then refuses or hangs each reconnect)
        self._cause: str | None = None
        self._video: tuple[int | None, int | None, str | None, str | None, str | None] = (None,) * 5
        self._clock: tuple[float | None, bool] = (None, False)
        self._packets: deque[tuple[float, int]] = deque()  # (monotonic s, bytes) of recent video packets
        self._last_packet: float | None = None  # monotonic s of the newest packet, kept when `_packets` is cleared
        self._reconnects = 0

    def _set(self, state: State) -> None:
        if state != self._state:
            self._state, self._since = state, time.time()

    def connecting(self) -> None:
        """A connection is being opened: the first, or again after the stream was lost. A camera offline stays offline
        through its reconnect attempts, since the moment it went (an officer reads how long it has been down; each
        attempt moved `since`, and the grid's badge flickered between offline and connecting)."""
        with self._lock:
            if self._state != "offline":
                self._set("connecting")

    def online(self, width: int | None, height: int | None, codec: str | None, transport: str | None,
               audio_codec: str | None = None) -> None:
        with self._lock:
            self._set("online")
            self._cause = None
            self._video = (width, height, codec, transport, audio_codec)
            self._clock = (None, False)  # measured again on this connection

    def clock(self, offset_seconds: float, beyond_tolerance: bool) -> None:
        with self._lock:
            self._clock = (offset_seconds, beyond_tolerance)

    def offline(self, reason: str) -> None:
        with self._lock:
            if self._state == "online":
                self._reconnects += 1
            if self._packets:
                self._last_packet = self._packets[-1][0]
            self._set("offline")
            self._error = redact_text(reason)
            if self._cause is None:
                self._cause = self._error
            self._packets.clear()

    def packet(self, size: int) -> None:
        now = time.monotonic()
        with self._lock:
            self._packets.append((now, size))
            while self._packets and now - self._packets[0][0] > RATE_WINDOW_SECONDS:
                self._packets.popleft()

    def snapshot(self) -> StatusSnapshot:
        with self._lock:
            now = time.monotonic()
            recent = [(t, n) for t, n in self._packets if now - t <= RATE_WINDOW_SECONDS]
            span = max(now - recent[0][0], 1.0) if recent else 1.0
            fps = len(recent) / span if recent else 0.0
            kbps = sum(n for _, n in recent) * 8 / 1000 / span if recent else 0.0
            width, height, codec, transport, audio_codec = self._video
            offset, beyond = self._clock
            last = self._packets[-1][0] if self._packets else self._last_packet
            snapshot = StatusSnapshot(self._state, self._since, self._error, round(fps, 2), round(kbps, 1),
                                      width, height, codec, None if offset is None else round(offset, 3), beyond,
                                      transport, self._reconnects,
                                      None if last is None else time.time() - (now - last), audio_codec, self._cause)
            silent = 0.0 if last is None else now - last
            if self._stall_seconds is None or self._state != "online" or silent <= self._stall_seconds:
                return snapshot
            stalled = f"no video for {silent:.0f} s (stalled stream: the camera sends too little)"
            return replace(snapshot, state="offline", since=time.time() - (silent - self._stall_seconds),
                           last_error=stalled, fps=0.0, bitrate_kbps=0.0, clock_offset_seconds=None,
                           clock_beyond_tolerance=False, reconnects=self._reconnects + 1,
                           offline_cause=stalled)  # online: no cause kept
