"""The key of a data folder that names its processes' sockets and shared files (light: the detector imports it)."""

from __future__ import annotations

import hashlib
from pathlib import Path


def folder_key(data_dir: Path) -> str:
    """A short key of the data folder, naming its sockets and shared files."""
    return hashlib.sha256(str(data_dir.resolve()).encode()).hexdigest()[:16]
