"""What an export holds and how its manifest is written: the names the builder and the verifier share.

`manifest.json` lists every other file of the export with its size and SHA-256 (`files`), and describes the
case and each clip; `manifest.sig` is the Ed25519 signature of manifest.json's exact bytes.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from nvr.times import format_instant

FORMAT = "station-nvr/case-export/1"
DISTRICT_FORMAT = "station-nvr/district-case-export/1"  # a district's: posts' exports inside (nvr/district/export.py)
STATIONS = "stations"  # where a district's export holds each post's, as stations/<id>.zip
MANIFEST = "manifest.json"
SIGNATURE = "manifest.sig"
PUBLIC_KEY = "station-public-key.pem"
PLAYER = "index.html"
README = "README-vi.txt"
CLIPS = "clips"
UNLISTED = frozenset({MANIFEST, SIGNATURE})  # the only files `files` does not (cannot) list


def instant(ms: int, zone: ZoneInfo) -> dict[str, Any]:
    """An instant as UTC, as the station's local time, and as Unix milliseconds (what the player computes with)."""
    utc = datetime.fromtimestamp(ms / 1000, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    return {"utc": utc, "local": format_instant(ms, zone), "unix_ms": ms}


def encode(manifest: dict[str, Any]) -> bytes:
    """The manifest's bytes: readable JSON (Vietnamese left as it is), the exact bytes the signature covers."""
    return (json.dumps(manifest, ensure_ascii=False, indent=2) + "\n").encode()
