"""An event as JSON: the API's answer, and the message that MQTT and webhooks carry."""

from __future__ import annotations

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
    }

