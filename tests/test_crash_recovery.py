"""`nvr run` killed with SIGKILL mid-recording: after a restart nothing finished is lost and the index is whole."""

from __future__ import annotations

import itertools
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import av
import httpx
import pytest
import yaml

from nvr.config import RuntimeConfig
from storage.index import RecordingIndex
from tests.conftest import wait_for
from tests.support.processes import descendants, listening_pid, parent_of, process_name, running
from tests.support.rtsp import RtspServer, free_port

NICER = RuntimeConfig().station_nice  # the defaults the test's config keeps
DETECTOR_NICER = RuntimeConfig().detector_nice - NICER

# Their assertions are about pace and time: `make test` runs them alone, after the parallel tests.
pytestmark = pytest.mark.solo


def write_config(folder: Path, port: int, camera_url: str) -> Path:
    """A station `post-1` with one camera and 2 s segments, its data in `folder`/data."""
    path = folder / "config.yaml"
    path.write_text(yaml.safe_dump({
        "data_dir": "data", "station": {"id": "post-1"}, "server": {"host": "127.0.0.1", "port": port},
        "storage": {"segment_seconds": 2, "min_free_bytes": 0},
        "cameras": [{"name": "cam0", "record_url": camera_url}],
    }))
    return path


def start_nvr(config_path: Path, log: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen([sys.executable, "-m", "nvr", "--config", str(config_path), "run"],
                            stdout=log.open("ab"), stderr=subprocess.STDOUT, start_new_session=True)


def decodes_fully(path: Path) -> int:
    with av.open(str(path)) as container:
        return sum(1 for _ in container.decode(video=0))


def test_sigkill_loses_nothing_finished_and_reconciles_both_ways(tmp_path: Path) -> None:
    port = free_port()
    with RtspServer(["cam0"]) as server:
        config_path = write_config(tmp_path, port, server.url("cam0"))
        segments_dir = tmp_path / "data" / "segments"
        log = tmp_path / "nvr.log"
        process = start_nvr(config_path, log)
        try:
            index = RecordingIndex(f"sqlite:///{tmp_path / 'data' / 'nvr.db'}", "post-1")
            wait_for(lambda: len(index.segments("cam0", 0, 2**62)) >= 3, 30, "three finished segments")
            finished = index.segments("cam0", 0, 2**62)
            newest_file = lambda: max(segments_dir.glob("cam0/*/*.mp4"), key=lambda p: int(p.stem))  # noqa: E731
            known = {s.path for s in finished}
            wait_for(lambda: newest_file().relative_to(segments_dir).as_posix() not in known
                     and time.time() * 1000 - int(newest_file().stem) > 1500, 10, "the next segment under way")
            for pid in descendants(process.pid):  # every process at once, as a power cut would
                os.kill(pid, signal.SIGKILL)
            killed_at = time.time()
            process.wait(10)
        finally:
            if process.poll() is None:
                process.kill()

        orphan = newest_file()
        wait_for(lambda: not _healthy(port), 10, "the killed station's API gone")
        assert orphan.relative_to(segments_dir).as_posix() not in {s.path for s in index.segments("cam0", 0, 2**62)}
        dangling = finished[0]
        (segments_dir / dangling.path).unlink()  # a row whose file is gone

        process = start_nvr(config_path, log)
        try:
            wait_for(lambda: _healthy(port), 30, "the restarted API")
            orphan_path = orphan.relative_to(segments_dir).as_posix()

            def reconciled() -> bool:  # by the recorder, once its camera records again
                paths = {s.path for s in index.segments("cam0", 0, 2**62)}
                return dangling.path not in paths and orphan_path in paths

            wait_for(reconciled, 20, "the dangling row removed and the orphan indexed")
            paths = {s.path: s for s in index.segments("cam0", 0, 2**62)}
            recovered = paths[orphan_path]
            assert killed_at - recovered.end_ms / 1000 <= 2.5, "at most a couple of seconds lost"
            for segment in finished[1:]:
                assert segment.path in paths
                assert decodes_fully(segments_dir / segment.path) >= 15
            assert decodes_fully(orphan) > 0
        finally:
            process.send_signal(signal.SIGTERM)
            process.wait(30)
        assert process.returncode in (0, -signal.SIGTERM), log.read_text()[-3000:]
        assert "its open segments were closed and indexed" in log.read_text(), "the catalog took every row"
        on_disk = {p.relative_to(segments_dir).as_posix() for p in segments_dir.glob("cam0/*/*.mp4")}
        assert on_disk == {s.path for s in index.segments("cam0", 0, 2**62)}, "a clean stop indexes everything"
        index.close()


def _named(pids: list[int], prefix: str) -> set[int]:
    return {pid for pid in pids if process_name(pid).startswith(prefix)}


def _nice(pid: int) -> int:
    return os.getpriority(os.PRIO_PROCESS, pid)


def _healthy(port: int) -> bool:
    try:
        return httpx.get(f"http://127.0.0.1:{port}/api/health", timeout=1).status_code == 200
    except httpx.HTTPError:
        return False


def test_children_end_with_a_killed_supervisor_and_close_their_segments(tmp_path: Path) -> None:
    """SIGKILL of the supervisor alone: its recorder and station processes end by themselves (each watches its
    parent) instead of recording on into a folder that a new station may own; they close what they wrote."""
    port = free_port()
    with RtspServer(["cam0"]) as server:
        process = start_nvr(write_config(tmp_path, port, server.url("cam0")), tmp_path / "nvr.log")
        try:
            index = RecordingIndex(f"sqlite:///{tmp_path / 'data' / 'nvr.db'}", "post-1")
            wait_for(lambda: index.segments("cam0", 0, 2**62), 30, "a finished segment")
            kids = descendants(process.pid)[1:]
            named = {process_name(pid) for pid in kids}
            assert {"nvr-recorder-0", "nvr-station"} <= named, f"a recorder and the station process, named: {named}"
            recorder = min(_named(kids, "nvr-recorder-"))
            assert "/cv2/" in Path(f"/proc/{recorder}/maps").read_text(), "a recorder loads OpenCV"
            supervisor = Path(f"/proc/{process.pid}/maps").read_text()
            assert "/cv2/" not in supervisor, "the supervisor does not: it names the recorders' function"
            assert "libavcodec" not in supervisor and "/numpy/" not in supervisor, \
                "nor PyAV and NumPy, which its start's reconcile loads only for a file to read"
            process.send_signal(signal.SIGKILL)
            process.wait(10)
        finally:
            if process.poll() is None:
                process.kill()
        wait_for(lambda: not any(Path(f"/proc/{pid}").exists() for pid in kids), 15, "the children to end")
        segments_dir = tmp_path / "data" / "segments"
        on_disk = {p.relative_to(segments_dir).as_posix() for p in segments_dir.glob("cam0/*/*.mp4")}
        assert on_disk == {s.path for s in index.segments("cam0", 0, 2**62)}, "they indexed what they wrote"
        index.close()


def test_a_killed_station_process_comes_back_and_recording_never_stops(tmp_path: Path) -> None:
    """SIGKILL of the station process (API, detection): the supervisor starts another, the recorders go on, and
    the footage has no hole. Before it, the fork server the children came from is killed: they run on, none twice,
    the new station comes from a new server, and stopping `nvr run` still stops the recorder the dead one forked."""
    port = free_port()
    with RtspServer(["cam0"]) as server:
        process = start_nvr(write_config(tmp_path, port, server.url("cam0")), tmp_path / "nvr.log")
        index = RecordingIndex(f"sqlite:///{tmp_path / 'data' / 'nvr.db'}", "post-1")
        try:
            wait_for(lambda: _healthy(port) and index.segments("cam0", 0, 2**62), 30, "recording and the API")
            station = wait_for(lambda: listening_pid(descendants(process.pid), port), 5, "the station process")
            assert station is not None
            detector = wait_for(lambda: _named(descendants(station), "nvr-detector"), 10, "the station's detector")
            recorders = _named(descendants(process.pid), "nvr-recorder-")
            assert recorders and all(_nice(station) == _nice(r) + NICER for r in recorders), "recording first"
            # the detector lowers its own priority once it runs (a second or more under load)
            wait_for(lambda: all(_nice(d) == _nice(station) + DETECTOR_NICER for d in detector), 15,
                     "then the API, then detection")
            began_ms = index.segments("cam0", 0, 2**62)[0].start_ms
            fork_server = parent_of(station)
            os.kill(fork_server, signal.SIGKILL)
            wait_for(lambda: not running(fork_server), 10, "the fork server gone")
            os.kill(station, signal.SIGKILL)
            killed_ms = round(time.time() * 1000)
            wait_for(lambda: listening_pid(descendants(process.pid), port) not in (None, station), 15,
                     "another station process")
            wait_for(lambda: _healthy(port), 15, "the API back")
            again = listening_pid(descendants(process.pid), port)
            assert again is not None and _nice(again) == _nice(min(recorders)) + NICER, "the new one as nice"
            assert all(running(r) for r in recorders), "the recorders, untouched"
            # none started a second time: after their server's death they are no longer the supervisor's descendants
            assert _named(descendants(process.pid), "nvr-recorder-") == set(), "the recorders alone"
            wait_for(lambda: index.segments("cam0", killed_ms + 4000, 2**62), 15, "recording well after the kill")
            spans = sorted((s.start_ms, s.end_ms) for s in index.segments("cam0", began_ms, 2**62))
            holes = [(end, start) for (_, end), (start, _) in itertools.pairwise(spans) if start - end > 1500]
            assert holes == [], "the recorder kept recording while the API was down"
        finally:
            process.send_signal(signal.SIGTERM)
            process.wait(30)
            index.close()
        assert not any(running(r) for r in recorders), "stopped with nvr run, though their fork server was gone"
