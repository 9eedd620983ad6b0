"""Files made once and never replaced (the station id, the station key).

The data is written whole to a temporary file (mkstemp: readable by its owner only), fsynced, then
hard-linked into place, which fails if the file exists: processes racing on a fresh data folder all end
up with the first one, and nobody ever sees a half-written file.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path


def write_once(path: Path, data: bytes) -> bool:
    """Write `data` to `path` (mode 0600) unless it exists; True when this call wrote it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        os.link(temporary, path)  # atomic, and fails if the file exists: the first writer wins
    except FileExistsError:
        return False
    finally:
        os.unlink(temporary)
    return True
