"""The recorder processes of a station, each restarted alone when it dies."""

from __future__ import annotations

from nvr.config import Config
from nvr.runtime.process_pool import ProcessPool

# imported by the recorder process only: a supervisor never loads PyAV, NumPy and OpenCV (0.6 CPU-s, and their memory)
RECORDER_MODULE = "nvr.runtime.recorder_process"
RECORDER_MAIN = f"{RECORDER_MODULE}:recorder_main"
RECORDER_MODULES = (RECORDER_MODULE,)  # what a recorder process imports (a fork server's preload)


def recorder_name(shard: int) -> str:
    return f"recorder-{shard}"


def add_recorders(pool: ProcessPool, config: Config, count: int, authkey: bytes, log_level: str = "INFO") -> None:
    for shard in range(count):
        pool.add(recorder_name(shard), RECORDER_MAIN, config, shard, authkey, log_level)
