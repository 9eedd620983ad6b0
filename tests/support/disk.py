"""A small disk of its own (tmpfs) and another program that fills it to the last byte."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

# Run as a separate process: what fills the disk is not the station. Writes until ENOSPC, in ever
# smaller pieces, so that not one page is left free.
FILLER = """
import os, sys
fd = os.open(sys.argv[1], os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
for size in (1 << 20, 1 << 12):
    chunk = b"\\0" * size
    try:
        while True:
            os.write(fd, chunk)
    except OSError:
        pass
os.close(fd)
"""


@contextmanager
def small_disk(folder: Path, size_mb: int) -> Iterator[Path]:
    """A tmpfs of `size_mb` MiB mounted on `folder` (skips the test where mounting is not permitted)."""
    folder.mkdir(parents=True, exist_ok=True)
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size_mb}m", "tmpfs", str(folder)],
                             check=False, capture_output=True, text=True)
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs (needs root or CAP_SYS_ADMIN): {mounted.stderr.strip()}")
    try:
        yield folder
    finally:
        subprocess.run(["umount", "--lazy", str(folder)], check=True)


def fill_disk(path: Path) -> None:
    """Another program writes `path` until the disk is full (free space 0 when it exits)."""
    subprocess.run([sys.executable, "-c", FILLER, str(path)], check=True, timeout=60)
