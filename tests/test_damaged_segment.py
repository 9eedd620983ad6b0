"""One damaged segment file amid recorded footage (emptied by a full disk, or cut short): what the station makes
of the footage around it. A station records a live RTSP camera in 2-second segments; of its first five, the
second is emptied and the fourth cut to 200 bytes."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from storage.index import Segment
from tests.conftest import start_station, station_config, wait_for
from tests.support.rtsp import RtspServer


@dataclass(frozen=True)
class Damaged:
    station: Any
    client: Any
    folder: Path
    segments: list[Segment]  # the first five closed ones: [1] emptied, [3] cut short

    @property
    def window(self) -> tuple[float, float]:
        """From the first of the five to the end of the last, in Unix seconds."""
        return self.segments[0].start_ms / 1000, self.segments[-1].end_ms / 1000


@pytest.fixture(scope="module")
def damaged(cameras: RtspServer, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Damaged]:
    folder = tmp_path_factory.mktemp("damaged")
    config = station_config(folder, [{"name": "cam0", "record_url": cameras.url("cam0"), "detect": {"enabled": False}}])
    started: list[Any] = []
    station, client = start_station(config, started)
    try:
        found = wait_for(lambda: (s := station.index.segments("cam0", 0, 2**62))[4:] and s[:5], 40, "five segments")
        (station.segments_dir / found[1].path).write_bytes(b"")
        cut = station.segments_dir / found[3].path
        cut.write_bytes(cut.read_bytes()[:200])
        yield Damaged(station, client, folder, found)
    finally:
        for station in started:
            station.stop()


def test_an_export_over_a_damaged_segment_is_refused_as_changed_since_recorded(damaged: Damaged) -> None:
    start, end = damaged.window
    made = damaged.client.post("/api/cases", json={"title": "Đoạn hỏng", "items": [
        {"camera": "cam0", "start": start, "end": end}]})
    assert made.status_code == 201, made.text
    case_id = made.json()["id"]
    refused = wait_for(lambda: (r := damaged.client.get(f"/api/cases/{case_id}/export.zip")).status_code != 202 and r,
                       60, "the export to be built or refused")
    assert refused.status_code == 409, refused.text
    assert f"segment {damaged.segments[1].path} changed since it was recorded" in refused.json()["detail"]
