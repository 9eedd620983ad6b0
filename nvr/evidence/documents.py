"""The export's documents for people: the offline player and the Vietnamese instructions, from templates
that ship beside this module."""

from __future__ import annotations

import json
from pathlib import Path
from string import Template
from typing import Any

HERE = Path(__file__).parent


def player_html(body: dict[str, Any]) -> bytes:
    """index.html with the manifest's content built in: a page opened from disk may not fetch files. `<` is
    escaped so that no title or note can close the script."""
    data = json.dumps(body, ensure_ascii=False).replace("<", "\\u003c")
    return (HERE / "player.html").read_text(encoding="utf-8").replace("__MANIFEST__", data).encode()


def readme_vi(body: dict[str, Any]) -> bytes:
    case, station = body["case"], body["station"]
    text = Template((HERE / "README-vi.txt").read_text(encoding="utf-8")).substitute(
        station_title=station["title"] or station["id"], station_id=station["id"], case_id=case["id"],
        case_title=case["title"], exported_by=body["exported_by"], exported_at=body["exported_at"]["local"],
        fingerprint=station["key_fingerprint"])
    return text.replace("\n", "\r\n").encode()  # Notepad on the investigators' Windows PCs
