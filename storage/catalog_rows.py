"""The rows a recorder hands to the catalog besides its segments (storage.index.Segment)."""

from __future__ import annotations

from dataclasses import dataclass

from storage.index import Segment


@dataclass(frozen=True)
class OutageStart:
    camera: str
    start_ms: int
    reason: str


@dataclass(frozen=True)
class OutageEnd:
    camera: str
    end_ms: int


Row = Segment | OutageStart | OutageEnd
