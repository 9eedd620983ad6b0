"""The recorder processes of a station: one per shard of cameras, each restarted alone when it dies."""

from __future__ import annotations

from nvr.config import Config
from nvr.runtime.process_pool import ProcessPool
from nvr.runtime.recorder_process import recorder_main


def recorder_name(shard: int) -> str:
    return f"recorder-{shard}"


def add_recorders(pool: ProcessPool, config: Config, shards: list[list[str]], authkey: bytes,
                  log_level: str = "INFO") -> None:
    for shard, cameras in enumerate(shards):
        pool.add(recorder_name(shard), recorder_main, config, shard, cameras, authkey, log_level)
