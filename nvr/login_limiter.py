"""Login throttling: too many failures from one address or for one user name blocks both for a while."""

from __future__ import annotations

import threading
import time
from collections import defaultdict, deque


class FailureLimiter:
    def __init__(self, max_failures: int = 5, window_seconds: float = 300.0) -> None:
        self._max = max_failures
        self._window = window_seconds
        self._failures: defaultdict[str, deque[float]] = defaultdict(deque)
        self._lock = threading.Lock()

    def retry_after(self, *keys: str) -> float:
        """Seconds until `keys` may try again; 0 when they may now."""
        now = time.monotonic()
        wait = 0.0
        with self._lock:
            for key in keys:
                recent = self._prune(key, now)
                if len(recent) >= self._max:
                    wait = max(wait, recent[0] + self._window - now)
        return wait

    def failed(self, *keys: str) -> None:
        now = time.monotonic()
        with self._lock:
            for key in keys:
                self._prune(key, now).append(now)

    def succeeded(self, *keys: str) -> None:
        with self._lock:
            for key in keys:
                self._failures.pop(key, None)

    def _prune(self, key: str, now: float) -> deque[float]:
        recent = self._failures[key]
        while recent and now - recent[0] > self._window:
            recent.popleft()
        return recent
