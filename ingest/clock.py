"""Wall-clock time for packets: a monotonic receive clock anchored at connect.

Camera clocks drift and jump, so the camera's timestamps only measure durations. The wall time of a
packet is the wall time of the anchor packet plus the camera-time elapsed since it. For live sources
the anchor moves to any packet that arrives earlier than the anchor predicts (a packet cannot be
captured after it was received: this drops the delay of bursts, such as the packets buffered while the
stream was probed), and forward at a keyframe when packets run more than `resync_seconds` late, but
only as far as a camera clock can drift (`MAX_DRIFT`): packets that a busy process reads late must
not make their pictures late. A jump in camera time is reported as a discontinuity. When the station's clock is
set (NTP stepping it, or an officer), the anchor follows at once: the wall and the monotonic clock then move apart,
which they never do otherwise (NTP's slewing changes the rate of both). See design/time.md.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

MAX_DRIFT = 0.001  # a camera clock slower than ours by this fraction (3.6 s an hour) is followed; no crystal is worse
CLOCK_SET_SECONDS = 0.5  # the wall clock moved this far against the monotonic one: the station's clock was set
READ_SECONDS = 0.005  # the two clocks read within this of each other count as read together


@dataclass(frozen=True)
class Stamp:
    wall: float  # UTC seconds since the epoch
    discontinuity: bool  # camera time jumped: what follows does not continue what came before


class ReceiveClock:
    def __init__(self, *, live: bool, resync_seconds: float = 1.0, jump_seconds: float = 10.0) -> None:
        self._live = live
        self._resync = resync_seconds
        self._jump = jump_seconds
        self._anchor: tuple[float, float, float] | None = None  # (media s, monotonic s, wall s)
        self._last_media: float | None = None

    def stamp(self, media_seconds: float, *, keyframe: bool) -> Stamp:
        """Wall time of a packet whose camera timestamp is `media_seconds`."""
        jumped = self._last_media is not None and not (
            self._last_media <= media_seconds <= self._last_media + self._jump
        )
        self._last_media = media_seconds
        if self._anchor is None or jumped:
            now_mono, now_wall = _clocks()
            self._anchor = (media_seconds, now_mono, now_wall)
            return Stamp(self._anchor[2], discontinuity=jumped)
        media0, mono0, wall0 = self._anchor
        now_mono, now_wall = time.monotonic(), time.time()  # per packet: two reads; a third only when they disagree
        set_by = (now_wall - now_mono) - (wall0 - mono0)  # every anchor keeps the clocks' difference as it read it
        if abs(set_by) > CLOCK_SET_SECONDS:  # set, or the thread held between the two reads: read them together
            now_mono, now_wall = _clocks()
            set_by = (now_wall - now_mono) - (wall0 - mono0)
        if abs(set_by) > CLOCK_SET_SECONDS:  # the station's clock is the reference: stamps follow its setting
            wall0 += set_by
            self._anchor = (media0, mono0, wall0)
        elapsed = media_seconds - media0
        lag = (now_mono - mono0) - elapsed
        if self._live and lag < 0:
            self._anchor = (media_seconds, now_mono, now_wall)
            return Stamp(self._anchor[2], discontinuity=False)
        if self._live and keyframe and lag > self._resync:
            drift = min(lag, elapsed * MAX_DRIFT)
            self._anchor = (media_seconds, mono0 + elapsed + drift, wall0 + elapsed + drift)
            return Stamp(self._anchor[2], discontinuity=False)
        return Stamp(wall0 + elapsed, discontinuity=False)


def _clocks() -> tuple[float, float]:
    """The monotonic and the wall clock, read together. A thread descheduled between the two reads (a busy process)
    would see them apart by as long as it waited: that would look like a setting of the clock."""
    for _attempt in range(3):
        mono = time.monotonic()
        wall = time.time()
        if time.monotonic() - mono < READ_SECONDS:
            break
    return mono, wall
