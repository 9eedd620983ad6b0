"""Where segment files live: `<camera>/<UTC date>/<start ms>.mp4` under the segments folder.

The start instant is in the name so a file left behind by a crash can be indexed again.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path

_NAME = re.compile(r"^(?P<start>[0-9]{10,16})\.mp4\Z")


def segment_relpath(camera: str, start_ms: int) -> str:
    day = datetime.fromtimestamp(start_ms / 1000, UTC).strftime("%Y-%m-%d")
    return f"{camera}/{day}/{start_ms}.mp4"


def parse_relpath(relpath: str) -> tuple[str, int] | None:
    """(camera, start ms) from a relative segment path, or None if it is not one of ours."""
    parts = Path(relpath).parts
    if len(parts) != 3 or not (match := _NAME.match(parts[2])):
        return None
    return parts[0], int(match.group("start"))
