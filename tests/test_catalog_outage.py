"""Must show (issue 16): three posts recording into the district's PostgreSQL while the database is stopped
for 60 s. Each post is an `nvr run` of its own with its own data folder: post a records two real RTSP cameras
in two recorder processes, posts b and c one camera each (named as a's: the catalog keeps them apart by
station). The test stops PostgreSQL (every connection cut, as a lost link would) and starts it again.
Recording never stops, the rows wait in the recorders' journals, the API says the catalog is away (503, no
traceback), and afterwards every segment of the outage is in the catalog exactly once, under its own
station, the segments do not overlap, and `recordings` shows one range without a gap. Meanwhile one of a's
recorders is killed: the one started in its place records its cameras from the list it kept (the catalog
cannot give it), and indexes the segment the killed one left open once the catalog is back."""

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
OTHERS = {"post-b": ("cam0",), "post-c": ("cam1",)}  # the other posts of the district, one recorder each
OUTAGE_SECONDS = 60
SEGMENT_SECONDS = 2


def write_config(folder: Path, port: int, database_url: str, cameras: RtspServer, station: str = STATION,
                 names: tuple[str, ...] = CAMERAS) -> Path:
    folder.mkdir(exist_ok=True)
    path = folder / "config.yaml"
    path.write_text(yaml.safe_dump({
        "data_dir": "data", "station": {"id": station}, "server": {"host": "127.0.0.1", "port": port},
        "database": {"url": database_url}, "runtime": {"recorder_processes": len(names)},
        "storage": {"segment_seconds": SEGMENT_SECONDS, "min_free_bytes": 0},
        "cameras": [{"name": name, "record_url": cameras.url(name), "detect": {"enabled": False}}
                    for name in names],
    }))
    return path


def start_post(config: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen([sys.executable, "-m", "nvr", "--config", str(config), "run"],
                            stdout=(config.parent / "nvr.log").open("ab"), stderr=subprocess.STDOUT,
                            start_new_session=True)


def nvr(config: Path, *args: str, stdin: str = "") -> str:
    done = subprocess.run([sys.executable, "-m", "nvr", "--config", str(config), *args], input=stdin,
                          capture_output=True, text=True, timeout=60, check=True)
    return done.stdout.strip()


def files_on_disk(segments_dir: Path, camera: str) -> dict[str, int]:
    """Relative path -> start ms of every segment file of `camera`."""
    return {p.relative_to(segments_dir).as_posix(): int(p.stem) for p in segments_dir.glob(f"{camera}/*/*.mp4")}


def test_postgresql_stopped_for_60_s_while_three_posts_record_loses_and_duplicates_nothing(
        cameras: RtspServer, tmp_path: Path) -> None:
    port = free_port()
    with PostgresServer() as postgres:
        config = write_config(tmp_path, port, postgres.url(), cameras)
        process = start_post(config)
        others = {station: (tmp_path / station, free_port()) for station in OTHERS}
        posts = [process]
        indexes: dict[str, RecordingIndex] = {}
        try:
            wait_for(lambda: _answers(f"http://127.0.0.1:{port}/api/health"), 60, "post a's API")
            for station, (folder, other_port) in others.items():  # after a's start, which migrated the catalog
                posts.append(start_post(write_config(folder, other_port, postgres.url(), cameras, station,
                                                     OTHERS[station])))
            indexes = {station: RecordingIndex(postgres.url(), station) for station in (STATION, *OTHERS)}
            index = indexes[STATION]
            recording = {STATION: CAMERAS, **OTHERS}
            wait_for(lambda: all(len(indexes[station].segments(c, 0, 2**62)) >= 2
                                 for station, names in recording.items() for c in names), 60, "every post recording")
            nvr(config, "user", "add", "district", "--role", "operator", stdin="district-password\n")
            key = nvr(config, "user", "key", "district")
            headers = {"Authorization": f"Bearer {key}"}
            folders = {STATION: tmp_path, **{station: folder for station, (folder, _port) in others.items()}}
            journals = [folder / "data" / JOURNAL_DIR for folder in folders.values()]
            segments_dir = tmp_path / "data" / "segments"

            stopped_ms = _now_ms()
            postgres.pause()
            try:
                wait_for(lambda: all(sum(p.stat().st_size for p in journal.glob("*.jsonl")) > 0
                                     for journal in journals), 20, "rows waiting in every post's journals")
                away = httpx.get(f"http://127.0.0.1:{port}/api/cameras/cam1/recordings", headers=headers, timeout=30)
                assert away.status_code == 503 and "catalog" in away.json()["detail"], away.text
                victim = wait_for(lambda: writer_of(process.pid, segments_dir / "cam0"), 10, "cam0's recorder")
                assert victim is not None
                os.kill(victim, signal.SIGKILL)
                killed_ms = _now_ms()
                wait_for(lambda: writer_of(process.pid, segments_dir / "cam0") not in (None, victim), 30,
                         "cam0 recorded again by a new recorder, while the catalog is away")
                time.sleep(max(0.0, OUTAGE_SECONDS - (_now_ms() - stopped_ms) / 1000))  # the outage itself
                for station, names in recording.items():  # recording went on all along
                    for camera in names:
                        during = [s for s in files_on_disk(folders[station] / "data" / "segments", camera).values()
                                  if s > stopped_ms]
                        assert len(during) >= OUTAGE_SECONDS // SEGMENT_SECONDS - 3, (station, camera, len(during))
                        assert max(during) > _now_ms() - 3 * SEGMENT_SECONDS * 1000, f"{station}/{camera} records"
            finally:
                postgres.resume()
            resumed_ms = _now_ms()

            def all_indexed() -> bool:
                for station, names in recording.items():
                    for camera in names:
                        done = {p for p, start in files_on_disk(folders[station] / "data" / "segments", camera).items()
                                if start < resumed_ms}
                        if not done <= {s.path for s in indexes[station].segments(camera, 0, 2**62)}:
                            return False
                return True

            wait_for(all_indexed, 60, "every segment of the outage in the catalog, under its own station")
            with index.session() as session:
                repeated = session.execute(select(SegmentRow.station, SegmentRow.path)
                                           .group_by(SegmentRow.station, SegmentRow.path)
                                           .having(func.count() > 1)).all()
            assert repeated == []
            for station, names in recording.items():
                for camera in names:
                    rows = indexes[station].segments(camera, stopped_ms - 2000, resumed_ms)
                    assert len([s for s in rows if s.start_ms >= stopped_ms]) >= OUTAGE_SECONDS // SEGMENT_SECONDS - 6
                    _assert_one_after_another(rows)
                    assert {Path(s.path).parts[0] for s in rows} == {camera}, "no other post's file in its rows"
            for camera in CAMERAS:
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
            for station, names in OTHERS.items():
                for camera in names:
                    assert indexes[station].outages(camera, stopped_ms, 2**62) == [], (station, camera)
            wait_for(lambda: all(p.stat().st_size == 0 for journal in journals for p in journal.glob("*.jsonl")), 10,
                     "the journals emptied")
        finally:
            for post in posts:
                post.send_signal(signal.SIGTERM)
            for post in posts:
                post.wait(60)
            for opened in indexes.values():
                opened.close()
    for folder in (tmp_path, *(folder for folder, _port in others.values())):
        log = (folder / "nvr.log").read_text()
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
