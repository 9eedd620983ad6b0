"""How many recorder processes read the cameras."""

from __future__ import annotations

import os

from nvr.config import Config


def recorder_count(config: Config) -> int:
    """`runtime.recorder_processes`, or one per core. Cameras are dealt round them by `nvr.cameras`."""
    return config.runtime.recorder_processes or os.cpu_count() or 1
