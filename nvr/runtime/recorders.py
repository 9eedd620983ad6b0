"""The recorder processes of a station, each restarted alone when it dies."""

from __future__ import annotations

from nvr.config import Config
from nvr.runtime.process_pool import ProcessPool
from nvr.runtime.recorder_process import recorder_main

RECORDER_MODULES = ("nvr.runtime.recorder_process",)  # what a recorder process imports (a fork server's preload)


def recorder_name(shard: int) -> str:
    return f"recorder-{shard}"


def add_recorders(pool: ProcessPool, config: Config, count: int, authkey: bytes, log_level: str = "INFO") -> None:
    for shard in range(count):
        pool.add(recorder_name(shard), recorder_main, config, shard, authkey, log_level)
