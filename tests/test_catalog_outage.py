"""Must show (issue 16): a post recording into the district's PostgreSQL while the database is stopped for
60 s. `nvr run` is a process of its own, recording two real RTSP cameras in two recorder processes; the test
stops PostgreSQL (every connection cut, as a lost link would) and starts it again. Recording never stops, the
rows wait in the recorders' journals, and afterwards every segment of the outage is in the catalog exactly
once, the segments do not overlap, and `recordings` shows one range without a gap. Meanwhile one recorder is
killed: the one started in its place records its cameras from the list it kept (the catalog cannot give it),
and indexes the segment the killed one left open once the catalog is back."""

from __future__ import annotations

import contextlib
import itertools
import os
import signal
import subprocess
import sys
import time
from datetime import datetime
from pathlib import Path

import httpx
import yaml
from sqlalchemy import func, select

from storage.catalog_journal import JOURNAL_DIR
from storage.index import RecordingIndex, Segment
from storage.models import SegmentRow
from tests.conftest import wait_for
from tests.support.postgres import PostgresServer
from tests.support.processes import descendants
from tests.support.rtsp import RtspServer, free_port

STATION, CAMERAS = "post-a", ("cam0", "cam1")
OUTAGE_SECONDS = 60
SEGMENT_SECONDS = 2


def write_config(folder: Path, port: int, database_url: str, cameras: RtspServer) -> Path:
    path = folder / "config.yaml"
    path.write_text(yaml.safe_dump({
        "data_dir": "data", "station": {"id": STATION}, "server": {"host": "127.0.0.1", "port": port},
        "database": {"url": database_url}, "runtime": {"recorder_processes": 2},
        "storage": {"segment_seconds": SEGMENT_SECONDS, "min_free_bytes": 0},
        "cameras": [{"name": name, "record_url": cameras.url(name), "detect": {"enabled": False}}
                    for name in CAMERAS],
    }))
    return path


def nvr(config: Path, *args: str, stdin: str = "") -> str:
    done = subprocess.run([sys.executable, "-m", "nvr", "--config", str(config), *args], input=stdin,
                          capture_output=True, text=True, timeout=60, check=True)
    return done.stdout.strip()


def files_on_disk(segments_dir: Path, camera: str) -> dict[str, int]:
    """Relative path -> start ms of every segment file of `camera`."""
    return {p.relative_to(segments_dir).as_posix(): int(p.stem) for p in segments_dir.glob(f"{camera}/*/*.mp4")}


def test_postgresql_stopped_for_60_s_while_a_post_records_loses_and_duplicates_nothing(
        cameras: RtspServer, tmp_path: Path) -> None:
    port = free_port()
    with PostgresServer() as postgres:
        config = write_config(tmp_path, port, postgres.url(), cameras)
        process = subprocess.Popen([sys.executable, "-m", "nvr", "--config", str(config), "run"],
                                   stdout=(tmp_path / "nvr.log").open("ab"), stderr=subprocess.STDOUT,
                                   start_new_session=True)
        index = None
        try:
            wait_for(lambda: _answers(f"http://127.0.0.1:{port}/api/health"), 60, "the station's API")
            index = RecordingIndex(postgres.url(), STATION)
            wait_for(lambda: all(len(index.segments(c, 0, 2**62)) >= 2 for c in CAMERAS), 30, "both recording")
            nvr(config, "user", "add", "district", "--role", "operator", stdin="district-password\n")
            key = nvr(config, "user", "key", "district")
            segments_dir = tmp_path / "data" / "segments"
            journals = tmp_path / "data" / JOURNAL_DIR

            stopped_ms = _now_ms()
            postgres.pause()
            try:
                wait_for(lambda: sum(p.stat().st_size for p in journals.glob("*.jsonl")) > 0, 20,
                         "rows waiting in the journals")
                victim = wait_for(lambda: writer_of(process.pid, segments_dir / "cam0"), 10, "cam0's recorder")
                assert victim is not None
                os.kill(victim, signal.SIGKILL)
                killed_ms = _now_ms()
                wait_for(lambda: writer_of(process.pid, segments_dir / "cam0") not in (None, victim), 30,
                         "cam0 recorded again by a new recorder, while the catalog is away")
                time.sleep(max(0.0, OUTAGE_SECONDS - (_now_ms() - stopped_ms) / 1000))  # the outage itself
                for camera in CAMERAS:  # recording went on all along
                    during = [s for s in files_on_disk(segments_dir, camera).values() if s > stopped_ms]
                    assert len(during) >= OUTAGE_SECONDS // SEGMENT_SECONDS - 3, (camera, len(during))
                    assert max(during) > _now_ms() - 3 * SEGMENT_SECONDS * 1000, f"{camera} records now"
            finally:
                postgres.resume()
            resumed_ms = _now_ms()

            def all_indexed() -> bool:
                for camera in CAMERAS:
                    done = {p for p, start in files_on_disk(segments_dir, camera).items() if start < resumed_ms}
                    if not done <= {s.path for s in index.segments(camera, 0, 2**62)}:
                        return False
                return True

            wait_for(all_indexed, 60, "every segment of the outage in the catalog")
            with index.session() as session:
                repeated = session.execute(select(SegmentRow.path).group_by(SegmentRow.path)
                                           .having(func.count() > 1)).all()
            assert repeated == []
            headers = {"Authorization": f"Bearer {key}"}
            for camera in CAMERAS:
                rows = index.segments(camera, stopped_ms - 2000, resumed_ms)
                assert len([s for s in rows if s.start_ms >= stopped_ms]) >= OUTAGE_SECONDS // SEGMENT_SECONDS - 6
                _assert_one_after_another(rows)
                listing = httpx.get(f"http://127.0.0.1:{port}/api/cameras/{camera}/recordings", headers=headers,
                                    params={"start": (stopped_ms - 2000) / 1000, "end": resumed_ms / 1000 + 5},
                                    timeout=10).json()
                if camera == "cam0":  # the kill's own gap: the new recorder's start, seconds, nothing else
                    assert len(listing["gaps"]) <= 1, listing
                    for gap in listing["gaps"]:
                        assert killed_ms - 5000 < _ms(gap["start"]) and _ms(gap["end"]) < killed_ms + 15_000, gap
                else:
                    assert len(listing["ranges"]) == 1 and listing["gaps"] == [], (camera, listing)
                    assert index.outages(camera, stopped_ms, 2**62) == [], "the database's outage is not a camera's"
            wait_for(lambda: all(p.stat().st_size == 0 for p in journals.glob("*.jsonl")), 10, "the journals emptied")
        finally:
            process.send_signal(signal.SIGTERM)
            process.wait(60)
            if index is not None:
                index.close()
    log = (tmp_path / "nvr.log").read_text()
    assert "Traceback" not in log, log[-4000:]
    assert key not in log


def _assert_one_after_another(rows: list[Segment]) -> None:
    """No two segments of a camera cover the same moment (a segment indexed twice under two names)."""
    for earlier, later in itertools.pairwise(rows):
        assert later.start_ms >= earlier.end_ms - 100, (earlier, later)


def writer_of(root: int, folder: Path) -> int | None:
    """The process (`root` or below) that has a segment file of `folder` open: the camera's recorder."""
    for pid in descendants(root):
        with contextlib.suppress(OSError):
            for fd in Path(f"/proc/{pid}/fd").iterdir():
                with contextlib.suppress(OSError):
                    if Path(os.readlink(fd)).is_relative_to(folder):
                        return pid
    return None


def _ms(text: str) -> int:
    return round(datetime.fromisoformat(text).timestamp() * 1000)


def _answers(url: str) -> bool:
    try:
        return httpx.get(url, timeout=2).status_code == 200
    except httpx.HTTPError:
        return False


def _now_ms() -> int:
    return round(time.time() * 1000)
