"""Which decoded frames detection analyses: about `max_fps` a second, as evenly as the camera's frames allow.

A frame is taken when it is due, less half the camera's own frame interval (frame times jitter), and the next
one is due a period after the last one was *due*, not after it came: a 25 fps camera at 15 gives three frames
of every five (15 a second), where "at least a period apart" would give every other one (12.5). A camera at
or below the rate gives every frame. See design/detection_frame_rate.md.
"""

from __future__ import annotations

import math

INTERVAL_RATE = 0.1  # the camera's frame interval is smoothed over about ten frames ...
LONGEST_INTERVAL = 1.0  # ... leaving out gaps longer than this (a stall is not the camera's frame rate)


class FramePicker:
    """Picks frames by their times (seconds, rising) for at most `max_fps` a second."""

    def __init__(self, max_fps: float) -> None:
        if max_fps <= 0:
            raise ValueError("max_fps must be positive")
        self._period = 1.0 / max_fps
        self._due = -math.inf
        self._last = -math.inf
        self._interval = math.nan  # the camera's, smoothed; unknown until its second frame

    def take(self, t: float) -> bool:
        """Whether the frame at `t` is analysed."""
        if self._last - t > (0.0 if math.isnan(self._interval) else self._interval):
            self._due, self._interval = -math.inf, math.nan  # time went back (a camera's clock jumped): start over
        elif 0.0 < t - self._last <= LONGEST_INTERVAL:  # (a step back within an interval is jitter: no gap)
            gap = t - self._last
            self._interval = gap if math.isnan(self._interval) else self._interval + INTERVAL_RATE * (
                gap - self._interval)
        self._last = t
        slack = 0.0 if math.isnan(self._interval) else self._interval / 2
        if t < self._due - slack:
            return False
        late = t - self._due > 2 * slack  # the first frame, or after a gap: the next is due a period from now
        self._due = (t if late else self._due) + self._period
        return True
