"""Login throttling (design/security.md): wrong passwords are counted per name and address, and per name
from every address, each count with its own backoff. An address the name has logged in from skips the
per-name wait, so whoever guesses cannot keep the post's own PCs out. Memory is bounded: at most
`capacity` records of each kind, every one forgotten a while after it was last written."""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from typing import Generic, Literal, TypeVar

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")
DAY = 86_400.0
FAILURES_KEPT = DAY  # a count of failures is forgotten a day after its last failure ...
LOGINS_KEPT = 30 * DAY  # ... an address a name logged in from, a month after that login
CAPACITY = 10_000  # records of each kind: 9 MB at most (64-character names, IPv6 addresses), whatever comes


@dataclass(frozen=True)
class Backoff:
    """`limit` failures make the caller wait `first_seconds`; each further one doubles it, up to `max_seconds`."""

    limit: int
    first_seconds: float
    max_seconds: float

    def wait(self, failures: int) -> float:
        if failures < self.limit:
            return 0.0
        return min(self.max_seconds, self.first_seconds * 2.0 ** min(failures - self.limit, 32))


PER_ADDRESS = Backoff(limit=5, first_seconds=300, max_seconds=3600)
PER_NAME = Backoff(limit=10, first_seconds=1, max_seconds=60)


@dataclass(frozen=True)
class Block:
    """A wait a failure started: for the name from that address, or for the name from every address it has
    not logged in from."""

    seconds: float
    scope: Literal["address", "name"]


class _Recent(Generic[K, V]):
    """At most `capacity` entries, each forgotten `keep_seconds` after it was last set; when full, the entry
    set longest ago goes. Entries are kept in the order they were set, so both are cheap."""

    def __init__(self, capacity: int, keep_seconds: float) -> None:
        self._capacity = capacity
        self._keep = keep_seconds
        self._entries: OrderedDict[K, tuple[float, V]] = OrderedDict()

    def get(self, key: K, now: float) -> tuple[float, V] | None:
        """(when it was set, value), unless it is missing or forgotten."""
        entry = self._entries.get(key)
        return entry if entry is not None and now - entry[0] < self._keep else None

    def set(self, key: K, value: V, now: float) -> None:
        self._entries[key] = (now, value)
        self._entries.move_to_end(key)
        while len(self._entries) > self._capacity or now - next(iter(self._entries.values()))[0] >= self._keep:
            self._entries.popitem(last=False)

    def pop(self, key: K) -> None:
        self._entries.pop(key, None)

    def __len__(self) -> int:
        return len(self._entries)


class LoginLimiter:
    """Thread-safe; `clock` (monotonic seconds) is for tests."""

    def __init__(self, per_address: Backoff = PER_ADDRESS, per_name: Backoff = PER_NAME, *,
                 capacity: int = CAPACITY, clock: Callable[[], float] = time.monotonic) -> None:
        self._per_address = per_address
        self._per_name = per_name
        self._pairs: _Recent[tuple[str, str], int] = _Recent(capacity, FAILURES_KEPT)
        self._names: _Recent[str, int] = _Recent(capacity, FAILURES_KEPT)
        self._known: _Recent[tuple[str, str], None] = _Recent(capacity, LOGINS_KEPT)
        self._clock = clock
        self._lock = threading.Lock()

    def retry_after(self, name: str, address: str) -> float:
        """Seconds until `name` may be tried from `address`; 0 when it may now."""
        with self._lock:
            now = self._clock()
            wait = _remaining(self._pairs.get((name, address), now), self._per_address, now)
            if self._known.get((name, address), now) is None:
                wait = max(wait, _remaining(self._names.get(name, now), self._per_name, now))
        return wait

    def failed(self, name: str, address: str) -> list[Block]:
        """Count a wrong password; the waits it started."""
        blocks = []
        with self._lock:
            now = self._clock()
            if seconds := _count(self._pairs, (name, address), self._per_address, now):
                blocks.append(Block(seconds, "address"))
            if seconds := _count(self._names, name, self._per_name, now):
                blocks.append(Block(seconds, "name"))
        return blocks

    def succeeded(self, name: str, address: str) -> None:
        """A login: that address starts afresh for that name and skips the name's wait from now on."""
        with self._lock:
            self._pairs.pop((name, address))
            self._known.set((name, address), None, self._clock())

    def records(self) -> int:
        with self._lock:
            return len(self._pairs) + len(self._names) + len(self._known)


def _count(store: _Recent[K, int], key: K, backoff: Backoff, now: float) -> float:
    """One more failure for `key`; the wait it starts (0: none)."""
    entry = store.get(key, now)
    failures = (entry[1] if entry else 0) + 1
    store.set(key, failures, now)
    return backoff.wait(failures)


def _remaining(entry: tuple[float, int] | None, backoff: Backoff, now: float) -> float:
    if entry is None:
        return 0.0
    last_failure, failures = entry
    return max(0.0, last_failure + backoff.wait(failures) - now)
