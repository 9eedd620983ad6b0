"""One station per data folder: a second `nvr run` on the same folder is refused and changes nothing."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
import yaml

from storage.data_lock import DataFolderBusy, DataFolderLock
from storage.index import RecordingIndex
from tests.conftest import wait_for
from tests.support.rtsp import RtspServer, free_port


def test_the_lock_is_exclusive_and_names_its_holder(tmp_path: Path) -> None:
    holder = f"already used by a running station \\(pid {os.getpid()} "
    with DataFolderLock(tmp_path), pytest.raises(DataFolderBusy, match=holder):
        DataFolderLock(tmp_path).acquire()
    with DataFolderLock(tmp_path):  # released: the next station may start
        pass


def _nvr_run(config: Path, log: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen([sys.executable, "-m", "nvr", "--config", str(config), "run"], stdin=subprocess.DEVNULL,
                            stdout=log.open("ab"), stderr=subprocess.STDOUT, start_new_session=True)


def _config(path: Path, data_dir: Path, camera_url: str) -> int:
    port = free_port()
    path.write_text(yaml.safe_dump({
        "data_dir": str(data_dir),
        "station": {"id": "post-1"},
        "server": {"host": "127.0.0.1", "port": port},
        "storage": {"segment_seconds": 2, "min_free_bytes": 0},
        "cameras": [{"name": "cam0", "record_url": camera_url, "detect": {"enabled": False}}],
    }))
    return port


def _healthy(port: int) -> bool:
    try:
        return httpx.get(f"http://127.0.0.1:{port}/api/health", timeout=1).status_code == 200
    except httpx.HTTPError:
        return False


def test_a_second_station_on_the_same_folder_is_refused_and_changes_nothing(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    segments_dir = data_dir / "segments"
    with RtspServer(["cam0"]) as camera:
        first_port = _config(tmp_path / "first.yaml", data_dir, camera.url("cam0"))
        _config(tmp_path / "second.yaml", data_dir, camera.url("cam0"))  # another port: only the folder is shared
        first = _nvr_run(tmp_path / "first.yaml", tmp_path / "first.log")
        index = RecordingIndex(f"sqlite:///{data_dir / 'nvr.db'}", "post-1")
        try:
            wait_for(lambda: _healthy(first_port), 60, "the first station's API")
            wait_for(lambda: len(list(index.all_segments())) >= 2, 30, "two finished segments")
            # its space reserve is taken at its first retention pass: the listing is made after it
            wait_for((data_dir / "space-reserve").exists, 30, "the first station's space reserve")
            rows_before = list(index.all_segments())
            mtimes_before = {s.path: (segments_dir / s.path).stat().st_mtime_ns for s in rows_before}
            top_level_before = sorted(p.name for p in data_dir.iterdir())
            lock_before = (data_dir / "station.lock").read_text()

            started = time.monotonic()
            second = subprocess.run([sys.executable, "-m", "nvr", "--config", str(tmp_path / "second.yaml"),
                                     "run"], stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=30,
                                    check=False)
            assert second.returncode == 2, second.stderr
            assert time.monotonic() - started < 10, "refused at once"
            assert f"{data_dir} is already used by a running station (pid {first.pid} " in second.stderr

            rows_after = {s.path: s for s in index.all_segments()}
            assert all(rows_after[s.path] == s for s in rows_before), "the first station's rows are as they were"
            assert {s.path: (segments_dir / s.path).stat().st_mtime_ns for s in rows_before} == mtimes_before
            assert sorted(p.name for p in data_dir.iterdir()) == top_level_before
            assert (data_dir / "station.lock").read_text() == lock_before

            newest = max(s.end_ms for s in rows_before)
            wait_for(lambda: sum(s.start_ms >= newest for s in index.all_segments()) >= 2, 30,
                     "the first station recording on")
            for segment in index.all_segments():  # no file indexed half-written by an intruder
                assert (segments_dir / segment.path).stat().st_size == segment.bytes, segment.path
                assert 1000 <= segment.end_ms - segment.start_ms <= 4000, segment
        finally:
            index.close()
            first.send_signal(signal.SIGTERM)
            try:
                first.wait(30)
            finally:
                if first.poll() is None:
                    first.kill()
    log = (tmp_path / "first.log").read_text()
    assert first.returncode in (0, -signal.SIGTERM), log[-3000:]
    assert "Traceback" not in log, log[-3000:]
