"""Camera health: uptime with a known outage, tamper history, worst first; the API (who sees what) and
`nvr report health` (CSV and printable HTML in Vietnamese)."""

from __future__ import annotations

import csv
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from fastapi.testclient import TestClient

from ingest.worker import STREAM_ENDED
from nvr.cameras import seed_from_config
from nvr.config import CameraConfig, Config, load_config
from nvr.health import camera_health
from nvr.health_report import duration
from nvr.station import Station
from nvr.station_identity import station_id
from storage.camera_store import CameraStore
from storage.clock import now_ms
from storage.events import EventStore
from storage.index import RecordingIndex, Segment
from storage.models import ClockStepRow
from storage.timeline import UNKNOWN_GAP
from tests.conftest import station_config, wait_for
from tests.support.rtsp import RtspServer, free_port
from tests.test_metrics import login

REPO = Path(__file__).resolve().parent.parent
HOUR = 3_600_000


def seed_day(index: RecordingIndex, camera: str, end_ms: int, *, outage: bool, covered: bool) -> None:
    """A day up to `end_ms` (footage until an hour later, so the window's end is no gap): recorded, except
    for a two-hour outage from 6 h in (when `outage`); the lens covered for 30 minutes at 10 h (when `covered`)."""
    start = end_ms - 24 * HOUR
    cuts = [(start, start + 6 * HOUR), (start + 8 * HOUR, end_ms + HOUR)] if outage else [(start, end_ms + HOUR)]
    for number, (first, last) in enumerate(cuts):
        index.add_segment(Segment(camera, f"{camera}/{number}.mp4", first, last, 1000))
    if outage:
        index.open_outage(camera, start + 6 * HOUR, STREAM_ENDED)
        index.close_outages(start + 8 * HOUR, camera)
    if covered:
        events = EventStore(index)
        event = events.open(camera, "tamper_covered", start + 10 * HOUR, 1.0, ())
        events.update(event.id, end_ms=start + 10 * HOUR + HOUR // 2)


def test_uptime_outages_and_tampering_of_a_day_worst_first(tmp_path: Path) -> None:
    index = RecordingIndex(f"sqlite:///{tmp_path / 'index.db'}", "post-1")
    end = now_ms()
    seed_day(index, "hem-4", end, outage=True, covered=True)
    seed_day(index, "cho", end, outage=False, covered=False)
    cameras = [CameraConfig(name=name, record_url="rtsp://10.0.0.2/x") for name in ("cho", "hem-4", "moi")]
    found = camera_health(index, EventStore(index), cameras, end - 24 * HOUR, end)
    assert [h.camera.name for h in found] == ["moi", "hem-4", "cho"], "nothing known counts as worst"
    moi, hem, cho = found
    assert moi.uptime_percent is None and moi.last_picture_ms is None and moi.outages == ()
    assert hem.uptime_percent == pytest.approx(100 * 22 / 24, abs=0.01)
    assert [(o.start_ms, o.ms, o.what) for o in hem.outages] == [(end - 18 * HOUR, 2 * HOUR, STREAM_ENDED)]
    assert [(t.what, t.ms) for t in hem.tampers] == [("tamper_covered", HOUR // 2)]
    assert hem.last_picture_ms == end
    assert cho.uptime_percent == 100 and cho.tampers == ()
    index.close()


def test_the_jump_of_a_forward_clock_step_is_no_outage(tmp_path: Path) -> None:
    """The station's clock set forward by an hour mid-day: the stamps jump over that hour, no time passed in it (an
    audit: it read as an hour the service was not running); the hour a camera was down before it still counts."""
    index = RecordingIndex(f"sqlite:///{tmp_path / 'index.db'}", "post-1")
    end = now_ms()
    step_at = end - 12 * HOUR  # the old clock's reading at the step; the new one read an hour more
    index.add_segment(Segment("cho", "cho/0.mp4", end - 24 * HOUR, step_at, 1000))
    index.add_segment(Segment("cho", "cho/1.mp4", step_at + HOUR, end + HOUR, 1000))
    index.add_segment(Segment("hem-4", "hem-4/0.mp4", end - 24 * HOUR, step_at - HOUR, 1000))
    index.add_segment(Segment("hem-4", "hem-4/1.mp4", step_at + HOUR, end + HOUR, 1000))
    with index.session() as session, session.begin():
        session.add(ClockStepRow(station="post-1", before_ms=step_at, after_ms=step_at + HOUR,
                                 since_ms=end - 30 * HOUR))
    cameras = [CameraConfig(name=name, record_url="rtsp://10.0.0.2/x") for name in ("cho", "hem-4")]
    by_name = {h.camera.name: h for h in camera_health(index, EventStore(index), cameras, end - 24 * HOUR, end)}
    assert by_name["cho"].uptime_percent == 100 and by_name["cho"].outages == ()
    hem = by_name["hem-4"]
    assert [(o.ms, o.what) for o in hem.outages] == [(HOUR, UNKNOWN_GAP)], "down for the hour before the step only"
    assert hem.uptime_percent == pytest.approx(100 * 22 / 23, abs=0.01)
    index.close()


def test_durations_read_in_vietnamese() -> None:
    assert [duration(ms) for ms in (0, 45_000, 60_000, 750_000, 2 * HOUR, 2 * HOUR + 300_000, 75 * HOUR)] == \
        ["0 giây", "45 giây", "1 phút", "12 phút 30 giây", "2 giờ", "2 giờ 5 phút", "3 ngày 3 giờ"]


def write_config(tmp_path: Path) -> Path:
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump({
        "data_dir": "data", "station": {"id": "ca-ben-nghe", "title": "Công an phường Bến Nghé"},
        "cameras": [{"name": "hem-4", "title": "Hẻm 4, ngõ 2", "location": "Trước nhà số 12",
                     "record_url": "rtsp://10.0.0.21/x"},
                    {"name": "cho", "title": "Chợ Bến Thành", "record_url": "rtsp://10.0.0.22/x"}]},
        allow_unicode=True), encoding="utf-8")
    return path


def nvr_report(config: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "nvr", "--config", str(config), "report", "health", *args],
                          check=False, capture_output=True, text=True, cwd=REPO, timeout=120)


def test_the_report_command_writes_a_csv_and_a_printable_vietnamese_page(tmp_path: Path) -> None:
    path = write_config(tmp_path)
    config = load_config(path)
    index = RecordingIndex(config.database_url, station_id(config))
    seed_from_config(config, CameraStore(index), now_ms())
    seed_day(index, "hem-4", now_ms(), outage=True, covered=True)
    seed_day(index, "cho", now_ms(), outage=False, covered=False)
    index.close()
    out = tmp_path / "bao-cao"
    done = nvr_report(path, "--days", "1", "--out", str(out))
    assert done.returncode == 0, done.stderr
    csv_path, html_path = (Path(line) for line in done.stdout.split())
    assert csv_path.parent == html_path.parent == out
    assert re.fullmatch(r"camera-health-ca-ben-nghe-[\d-]+", csv_path.stem)

    with csv_path.open(encoding="utf-8-sig", newline="") as file:
        rows = list(csv.DictReader(file))
    assert [row["Mã camera"] for row in rows] == ["hem-4", "cho"], "worst first"
    assert rows[0]["Tên camera"] == "Hẻm 4, ngõ 2" and rows[0]["Vị trí"] == "Trước nhà số 12"
    assert float(rows[0]["Hoạt động (%)"]) == pytest.approx(91.67, abs=0.01)
    assert (rows[0]["Số lần mất hình"], rows[0]["Thời gian mất hình (giây)"]) == ("1", "7200")
    assert (rows[0]["Số lần bị che/xoay/mờ"], rows[0]["Thời gian bị che/xoay/mờ (giây)"]) == ("1", "1800")
    assert float(rows[1]["Hoạt động (%)"]) == 100

    page = html_path.read_text(encoding="utf-8")
    assert '<html lang="vi">' in page and "Báo cáo tình trạng camera" in page and "Công an phường Bến Nghé" in page
    assert page.index('data-camera="hem-4"') < page.index('data-camera="cho"')
    assert "91,67 %" in page and "1 lần, 2 giờ" in page and "1 lần, 30 phút" in page
    assert "Camera ngắt kết nối" in page and "Bị che" in page, "the outage's reason and the tamper, in Vietnamese"
    assert not re.search(r"""(src|href)=|url\(|@import|<script""", page), "self-contained, nothing fetched"

    refused = nvr_report(path, "--days", "0")
    assert refused.returncode == 2 and "--days" in refused.stderr


@pytest.fixture
def station(cameras: RtspServer, tmp_path: Path, make_station):
    return start_health_station(cameras, tmp_path, make_station)


def add_past_footage(station: Station, segment: Segment) -> None:
    """A segment row with a file behind it: a recorder reconciling after its start drops rows without one."""
    path = station.config.segments_dir / segment.path
    path.parent.mkdir(parents=True, exist_ok=True)
    path.touch()
    station.index.add_segment(segment)


def start_health_station(cameras: RtspServer, tmp_path: Path, make_station):
    """hem-4 records, and was recorded before until an hour ago; cho's camera refuses connections, and before
    that it was recorded for 12 of the 24 hours."""
    config: Config = station_config(tmp_path, [
        {"name": "hem-4", "title": "Hẻm 4", "record_url": cameras.url("cam0")},
        {"name": "cho", "title": "Chợ cũ", "record_url": f"rtsp://127.0.0.1:{free_port()}/x"},
        {"name": "tat", "record_url": cameras.url("cam1"), "enabled": False}])
    station, client = make_station(config)
    end = now_ms()
    add_past_footage(station, Segment("cho", "cho/old.mp4", end - 24 * HOUR, end - 12 * HOUR, 1000))
    add_past_footage(station, Segment("hem-4", "hem-4/old.mp4", end - 24 * HOUR, end - HOUR, 1000))
    wait_for(lambda: station.index.segments("hem-4", end - HOUR, 2**62), 20, "footage of hem-4")
    return station, client


def test_the_health_api_sorts_worst_first_and_households_see_their_own_cameras(station) -> None:
    station, client = station
    found = client.get("/api/health/cameras", params={"days": 1}).json()
    assert [c["name"] for c in found["cameras"]] == ["cho", "hem-4"], "worst first; disabled cameras left out"
    cho, hem = found["cameras"]
    assert cho["uptime_percent"] == pytest.approx(50, abs=0.1)
    # the 12 hours before the station started are the service's, the minutes since the camera's refusal (one reason
    # for the whole of a gap before: found in review)
    assert cho["online"] is False and cho["outage_count"] == 2
    assert sorted(("refused" in o["reason"].lower(), o["reason"] == UNKNOWN_GAP) for o in cho["outages"]) == [
        (False, True), (True, False)], cho["outages"]
    assert cho["seconds_since_last_picture"] == pytest.approx(12 * 3600, abs=120)
    assert hem["online"] is True and hem["seconds_since_last_picture"] < 5
    assert hem["uptime_percent"] == pytest.approx(100 * 23 / 24, abs=0.1), "the hour before the station started"

    station.accounts.add("nha-so-5", "household-pass", "viewer")
    station.accounts.grant("nha-so-5", ["hem-4"])
    token = login(client, "nha-so-5", "household-pass")
    household = TestClient(client.app, headers={"Authorization": f"Bearer {token}"})
    assert [c["name"] for c in household.get("/api/health/cameras").json()["cameras"]] == ["hem-4"]
    assert client.get("/api/health/cameras", params={"days": 0}).status_code == 422
    assert TestClient(client.app).get("/api/health/cameras").status_code == 401
