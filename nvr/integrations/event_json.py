"""An event as JSON: the API's answer, and the message that MQTT and webhooks carry (the same fields plus
the station and absolute links to the event's snapshot and clip)."""

from __future__ import annotations

import json
from typing import Any
from zoneinfo import ZoneInfo

from nvr.times import format_instant
from storage.events import Event


def event_json(event: Event, zone: ZoneInfo) -> dict[str, Any]:
    return {
        "id": event.id, "camera": event.camera, "type": event.type,
        "start": format_instant(event.start_ms, zone),
        "end": format_instant(event.end_ms, zone) if event.end_ms is not None else None,
        "start_ms": event.start_ms, "end_ms": event.end_ms, "score": round(event.score, 3),
        "boxes": [list(b) for b in event.boxes], "has_snapshot": event.snapshot is not None,
        "updated_ms": event.updated_ms,
        "ack": {"by": event.ack.by, "at": format_instant(event.ack.at_ms, zone), "at_ms": event.ack.at_ms,
                "note": event.ack.note} if event.ack else None,
    }


def event_message(event: Event, zone: ZoneInfo, station: str, base_url: str) -> bytes:
    """The UTF-8 JSON sent for one event change. The links are the API's routes: they open with the bearer
    token of a user who may see the camera."""
    api = f"{base_url}/api/events/{event.id}"
    message = {**event_json(event, zone), "station": station,
               "snapshot_url": f"{api}/snapshot.jpg" if event.snapshot is not None else None,
               "clip_url": f"{api}/clip.mp4"}
    return json.dumps(message, ensure_ascii=False, separators=(",", ":")).encode()
