"""Which recorder process reads which camera."""

from __future__ import annotations

import os

from nvr.config import Config


def recorder_count(config: Config) -> int:
    """`runtime.recorder_processes`, or one per core (never more than there are cameras, at least one)."""
    wanted = config.runtime.recorder_processes or os.cpu_count() or 1
    enabled = sum(camera.enabled for camera in config.cameras)
    return max(1, min(wanted, enabled))


def shard_cameras(config: Config, shards: int) -> list[list[str]]:
    """The enabled cameras dealt round the shards in configuration order, so that each process gets an
    even share of main and sub streams."""
    dealt: list[list[str]] = [[] for _ in range(shards)]
    for position, camera in enumerate(c for c in config.cameras if c.enabled):
        dealt[position % shards].append(camera.name)
    return dealt
