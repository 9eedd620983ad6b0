"""A stop asked for by a signal, kept as a plain value.

A handler that takes a lock deadlocks when the signal comes while the main thread holds that lock: Event.set in
the handler, with the main thread inside the same Event's wait, hung the supervisor once, and later a recorder,
which then outlived the supervisor killed under it. So the handler only stores the signal, and the main loop looks.
"""

from __future__ import annotations

import signal
from collections.abc import Iterable


class StopRequest:
    """Installs its handler for `signals` (in the main thread); `signal` is the one that came, 0 before."""

    def __init__(self, signals: Iterable[signal.Signals]) -> None:
        self.signal = 0
        for signum in signals:
            signal.signal(signum, self._handle)

    @property
    def stop(self) -> bool:
        return self.signal != 0

    def _handle(self, signum: int, _frame: object) -> None:
        self.signal = signum
