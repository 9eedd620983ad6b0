"""A faster NTP clock for aiortc's RTP senders.

aiortc reads the NTP time twice for every RTP packet it sends (`aiortc.clock.current_ntp_time`), and
builds it from timezone-aware datetime objects: at 400 packets a second per 1080p viewer that was 12 %
of the server's cost of a viewer. `ntp_now` gives the same value from one integer clock read.
"""

from __future__ import annotations

import time

import aiortc.clock

NTP_UNIX_OFFSET = 2_208_988_800  # seconds from the NTP epoch (1900) to the Unix epoch (1970)


def ntp_now() -> int:
    """The current time as a 64-bit NTP timestamp (32.32 fixed point seconds since 1900)."""
    seconds, nanoseconds = divmod(time.time_ns(), 1_000_000_000)
    return ((seconds + NTP_UNIX_OFFSET) << 32) | (nanoseconds << 32) // 1_000_000_000


def install() -> None:
    """Make aiortc use `ntp_now` (it looks the function up in its clock module at every call)."""
    aiortc.clock.current_ntp_time = ntp_now
