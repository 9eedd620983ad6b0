"""Capacity: how many cameras one station holds at camera pace on this machine. Prints one JSON line.

Each camera has a 1920x1080@15 main stream at about 4 Mbit/s (recorded) and a 640x360@15 sub stream at
512 kbit/s (detected), served over RTSP by the real GStreamer test server (tests/support/rtsp.py), which
replays pre-encoded files (benchmarks/media.py), each client from the file's start, at the files' own pace.

For each step of N cameras (16, 32, 48, ... until the first step that fails, or --max):

1. The real service runs as `python -m nvr --config X run` (the supervisor, its recorder processes
   and its station process), with default settings (1-minute segments, detection on every sub stream).
2. Once every camera is online, a load generator in a process of its own keeps the API answering 50
   requests a second (GET /api/cameras, /api/health and /api/cameras/{n}/recordings in turn, logged in
   as the administrator), and the window of --seconds is measured:
   - CPU: utime + stime from /proc/<pid>/stat of the supervisor and every descendant, before and after;
   - RSS: the sum of VmRSS of those processes, sampled every few seconds (the highest sample); per
     camera both as that total over N and as what is left of it after the fixed cost of the processes:
     the same service with no camera (measured once at the start of the run), plus an idle recorder
     process's RSS for each recorder process more than that service had;
   - pace: every camera's `fps` (main and sub stream) from GET /api/cameras at every sample;
   - detection: the pictures each camera's detection analysed over the window (`/metrics`,
     nvr_camera_detection_frames_total), per second; reported, not a condition (the station process yields
     the CPU to the recorders, `runtime.station_nice`, and detection then takes fewer frames);
   - recording: after the window, /api/cameras/{n}/recordings over the window must list no gap and its
     last range must reach to within 3 s of the moment it was asked.
   The step passes when every camera held >= 14 fps on both streams at every sample, no camera was late or
   had a gap, no service process restarted, and the API answered >= 90 % of the 50 requests a second
   without an error.
3. The ffmpeg floor over the same N cameras and the same window length: per camera
   `ffmpeg -rtsp_transport tcp -i <main> -c copy -f segment -segment_time 60` and
   `ffmpeg -rtsp_transport tcp -i <sub> -f null -` (a decode), CPU measured the same way. The ratio is our
   CPU per camera over the floor's CPU per camera; `recorders_ratio_to_ffmpeg_floor` counts only the
   recorder processes, which do the floor's work (plus the work pictures), without the API and detection.

The RTSP server shares the machine: its CPU over each window is reported too, as is the whole machine's
busy time (from /proc/stat), which shows when the machine itself was the limit (or other work on it).
"""

from __future__ import annotations

import argparse
import itertools
import json
import math
import multiprocessing
import multiprocessing.queues
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
import yaml
from prometheus_client.parser import text_string_to_metric_families

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.media import camera_minute_360p, camera_minute_1080p, looped
from tests.support.processes import descendants, process_name, stat_fields
from tests.support.rtsp import RtspServer, free_port

DEFAULT_STEPS = (16, 32, 48, 64, 80, 96, 112, 128)
DEFAULT_SECONDS = 35.0
REQUESTS_PER_SECOND = 50.0
LOAD_THREADS = 8
MIN_FPS = 14.0
LATE_SECONDS = 3.0
SAMPLE_SECONDS = 5.0
SETTLE_SECONDS = 3.0  # after every camera is online, before the window: the fps windows fill
PASSWORD = "capacity-benchmark-password"
TARGETS = {"max_cameras": 64, "ratio": 1.0, "rss_mb_per_camera": 15}
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
INPUT = ("per camera: 1920x1080@15 H.264 ~4 Mbit/s main stream (recorded) + 640x360@15 H.264 512 kbit/s sub "
         "stream (detected), GOP 2 s, over RTSP/TCP from the GStreamer test server on the same machine")


# ---------------------------------------------------------------------------------------------- /proc


def cpu_seconds(pids: list[int]) -> dict[int, float]:
    """utime + stime of each process still running."""
    times = {}
    for pid in pids:
        if (fields := stat_fields(pid)) is not None:
            times[pid] = (int(fields[11]) + int(fields[12])) / CLOCK_TICKS
    return times


def cpu_spent(before: dict[int, float], after: dict[int, float]) -> dict[int, float]:
    """CPU seconds of each process between two readings (a process started in between counts from zero)."""
    return {pid: seconds - before.get(pid, 0.0) for pid, seconds in after.items()}


def rss_mb(pids: list[int]) -> float:
    """Sum of VmRSS (shared pages count once per process)."""
    total_kb = 0
    for pid in pids:
        try:
            status = Path(f"/proc/{pid}/status").read_text()
        except OSError:
            continue
        total_kb += next((int(line.split()[1]) for line in status.splitlines() if line.startswith("VmRSS:")), 0)
    return total_kb / 1024


def machine_busy_seconds() -> float:
    """CPU seconds the whole machine spent busy (all cores, everything but idle and iowait)."""
    values = [int(v) for v in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    return (sum(values) - values[3] - values[4]) / CLOCK_TICKS


@dataclass
class Window:
    """CPU of some processes and of the machine over a stretch of wall time."""

    pids: list[int]
    started: float = field(default_factory=time.monotonic)
    machine: float = field(default_factory=machine_busy_seconds)
    before: dict[int, float] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.before = cpu_seconds(self.pids)

    def end(self, pids: list[int]) -> tuple[float, dict[int, float], float]:
        """(wall seconds, CPU seconds per process of `pids`, machine busy cores)."""
        spent = cpu_spent(self.before, cpu_seconds(pids))
        wall = time.monotonic() - self.started
        return wall, spent, (machine_busy_seconds() - self.machine) / wall


# ---------------------------------------------------------------------------------------------- API load


@dataclass
class LoadFigures:
    requests_per_s: float
    errors: int
    p50_ms: float
    p95_ms: float
    first_errors: list[str]
    generator_cpu_cores: float  # the load generator's own CPU: it shares the machine too


def load_main(base: str, token: str, cameras: list[str], rate: float, stop: Any, out: Any) -> None:
    """The load generator process: request k is due at k / rate seconds, sent by whichever of LOAD_THREADS
    threads is free (a slow API makes it fall behind, which shows as a lower rate)."""
    paths = ["/api/cameras", "/api/health"] + ([f"/api/cameras/{c}/recordings" for c in cameras] or ["/api/cameras"])
    counter, lock = itertools.count(), threading.Lock()
    latencies: list[float] = []
    errors: list[str] = []
    started, cpu = time.monotonic(), time.process_time()

    def worker() -> None:
        with httpx.Client(base_url=base, headers={"Authorization": f"Bearer {token}"}, timeout=10) as client:
            while not stop.is_set():
                with lock:
                    k = next(counter)
                delay = started + k / rate - time.monotonic()
                if delay > 0 and stop.wait(delay):
                    return
                path = paths[k % 2] if k % 3 else paths[2 + (k // 3) % (len(paths) - 2)]
                sent = time.monotonic()
                try:
                    status = client.get(path).status_code
                except httpx.HTTPError as exc:
                    errors.append(f"{path}: {type(exc).__name__}")
                    continue
                latencies.append(time.monotonic() - sent)
                if status != 200:
                    errors.append(f"{path}: {status}")

    threads = [threading.Thread(target=worker) for _ in range(LOAD_THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    seconds = time.monotonic() - started
    cores = (time.process_time() - cpu) / seconds
    ordered = sorted(latencies) or [0.0]
    out.put(asdict(LoadFigures(round((len(latencies) + len(errors)) / seconds, 1), len(errors),
                               round(statistics.median(ordered) * 1000, 1),
                               round(ordered[int(0.95 * (len(ordered) - 1))] * 1000, 1), errors[:3],
                               round(cores, 3))))


class LoadGenerator:
    """load_main in a spawned process, from start() to stop()."""

    def __init__(self, base: str, token: str, cameras: list[str]) -> None:
        context = multiprocessing.get_context("spawn")
        self._stop = context.Event()
        self._out: multiprocessing.queues.Queue[dict[str, Any]] = context.Queue()  # plain data: no pickled class
        self._process = context.Process(target=load_main, args=(base, token, cameras, REQUESTS_PER_SECOND,
                                                                 self._stop, self._out), daemon=True)

    def start(self) -> None:
        self._process.start()

    def stop(self) -> LoadFigures:
        self._stop.set()
        figures = LoadFigures(**self._out.get(timeout=30))
        self._process.join(10)
        return figures


# ---------------------------------------------------------------------------------------------- the service


class NotOnline(Exception):
    """Some cameras did not come online: the step fails."""


class Service:
    """`nvr run` on a config of its own, in a temporary folder."""

    def __init__(self, work: Path, cameras: list[tuple[str, str, str]]) -> None:
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.names = [name for name, _, _ in cameras]
        work.mkdir(parents=True, exist_ok=True)
        config = work / "config.yaml"
        config.write_text(yaml.safe_dump({
            "data_dir": str(work / "data"), "server": {"port": self.port}, "storage": {"min_free_bytes": 0},
            "cameras": [{"name": n, "record_url": main, "detect_url": sub} for n, main, sub in cameras]}))
        self._log = (work / "nvr.log").open("wb")
        self.log_path = work / "nvr.log"
        self.process = subprocess.Popen(
            [sys.executable, "-m", "nvr", "--config", str(config), "run", "--log-level", "WARNING"],
            env={**os.environ, "NVR_ADMIN_PASSWORD": PASSWORD}, stdout=self._log, stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL)
        self.token = self._login(deadline=time.monotonic() + 60)
        self.client = httpx.Client(base_url=self.base, headers={"Authorization": f"Bearer {self.token}"}, timeout=15)

    def _login(self, deadline: float) -> str:
        while True:
            if self.process.poll() is not None:
                raise RuntimeError(f"nvr run exited with {self.process.returncode}: {self.log_tail()}")
            try:
                response = httpx.post(f"{self.base}/api/auth/login", json={"username": "admin", "password": PASSWORD},
                                      timeout=5)
                return str(response.json()["token"])
            except (httpx.HTTPError, KeyError, ValueError):
                if time.monotonic() > deadline:
                    raise RuntimeError(f"the API did not come up: {self.log_tail()}") from None
                time.sleep(0.3)

    def log_tail(self, limit: int = 1500) -> str:
        return self.log_path.read_text(errors="replace")[-limit:]

    def pids(self) -> list[int]:
        return descendants(self.process.pid)

    def roles(self, pids: list[int]) -> dict[int, str]:
        """supervisor, station, detector, recorder (the names the children give themselves), or other
        (multiprocessing's fork servers and resource tracker)."""
        roles = {}
        for pid in pids:
            name = process_name(pid)
            roles[pid] = ("supervisor" if pid == self.process.pid else "station" if name == "nvr-station"
                          else "detector" if name == "nvr-detector" else "recorder" if name.startswith("nvr-recorder")
                          else "other")
        return roles

    def cameras(self) -> list[dict[str, Any]]:
        return list(self.client.get("/api/cameras").json())

    def detection_frames(self) -> dict[str, float]:
        """Pictures analysed so far, by camera."""
        text = self.client.get("/metrics").text
        return {sample.labels["camera"]: sample.value for family in text_string_to_metric_families(text)
                for sample in family.samples if sample.name == "nvr_camera_detection_frames_total"}

    def wait_online(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while True:
            cameras = self.cameras()
            waiting = [c["name"] for c in cameras if c.get("status") != "online"
                       or (c.get("detect") or {}).get("status") != "online"]
            if not waiting:
                return
            if time.monotonic() > deadline:
                raise NotOnline(f"{len(waiting)} cameras not online after {timeout:.0f} s, e.g. {waiting[:3]}")
            time.sleep(1)

    def stop(self) -> None:
        self.client.close()
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(60)
            except subprocess.TimeoutExpired:
                for pid in reversed(self.pids()):
                    os.kill(pid, signal.SIGKILL)
                self.process.wait()
        self._log.close()


@contextmanager
def running_service(work: Path, cameras: list[tuple[str, str, str]]) -> Iterator[Service]:
    service = Service(work, cameras)
    try:
        yield service
    finally:
        service.stop()


def recording_check(service: Service, name: str, start: float) -> tuple[int, float]:
    """(gaps, seconds the last recorded range ends before now) of one camera since `start`."""
    asked = time.time()
    listing = service.client.get(f"/api/cameras/{name}/recordings", params={"start": start, "end": asked}).json()
    ranges = listing["ranges"]
    lag = asked - datetime.fromisoformat(ranges[-1]["end"]).timestamp() if ranges else asked - start
    return len(listing["gaps"]), lag


# ---------------------------------------------------------------------------------------------- steps


@dataclass
class Floor:
    cpu_cores: float
    cpu_percent_per_camera: float
    rtsp_server_cpu_cores: float
    machine_busy_cores: float
    main_mbit_per_s_per_camera: float  # what the segmenters wrote: ~4 when they kept pace
    ffmpeg_alive: int


@dataclass
class Step:
    """One step's figures; a step whose cameras never all came online has only `failures`."""

    cameras: int
    ok: bool
    failures: list[str]
    cpu_cores: float | None = None
    cpu_cores_by_process: dict[str, Any] | None = None
    cpu_percent_per_camera: float | None = None
    rss_mb: float | None = None
    rss_mb_per_camera_total: float | None = None
    rss_mb_per_camera: float | None = None
    min_fps: float | None = None
    detection_fps: dict[str, float] | None = None  # pictures analysed a second per camera: min, median
    late_cameras: int | None = None
    max_lag_s: float | None = None
    gaps: int | None = None
    restarts: int | None = None
    api: LoadFigures | None = None
    rtsp_server_cpu_cores: float | None = None
    machine_busy_cores: float | None = None
    ffmpeg_floor: Floor | None = None
    ratio_to_ffmpeg_floor: float | None = None
    recorders_ratio_to_ffmpeg_floor: float | None = None  # the recorder processes alone do what the floor does


class Bench:
    def __init__(self, work: Path, seconds: float) -> None:
        self.work = work
        self.seconds = seconds
        minutes = max(2, math.ceil((seconds + 120) / 60))  # connecting, the window and the checks fit in
        self.main = looped(camera_minute_1080p(), minutes)
        self.sub = looped(camera_minute_360p(), minutes)
        self.baseline_rss_mb = 0.0
        self.recorder_rss_mb = 0.0  # an idle recorder process: paid once per process, not per camera
        self.baseline_recorders = 0

    def baseline(self) -> dict[str, Any]:
        """The service with no camera: the fixed RSS of its processes, and its idle CPU."""
        with running_service(self.work / "baseline", []) as service:
            time.sleep(5)
            pids = service.pids()
            window = Window(pids)
            time.sleep(5)
            wall, spent, _ = window.end(service.pids())
            roles = service.roles(service.pids())
            self.baseline_rss_mb = rss_mb(list(roles))
            recorders = [pid for pid, role in roles.items() if role == "recorder"]
            self.baseline_recorders = len(recorders)
            self.recorder_rss_mb = rss_mb(recorders) / max(1, len(recorders))
            by_role = {role: round(rss_mb([p for p, r in roles.items() if r == role]), 1)
                       for role in set(roles.values())}
        return {"rss_mb": round(self.baseline_rss_mb, 1), "rss_mb_by_process": by_role,
                "cpu_cores": round(sum(spent.values()) / wall, 3)}

    def step(self, n: int) -> Step:
        names = [f"cam{k:03d}" for k in range(n)]
        files = {f"{name}-main": self.main for name in names} | {f"{name}-sub": self.sub for name in names}
        folder = self.work / f"step-{n}"
        folder.mkdir()
        with RtspServer([], files=files) as rtsp:
            rtsp_pid = rtsp_server_pid()
            cameras = [(name, rtsp.url(f"{name}-main"), rtsp.url(f"{name}-sub")) for name in names]
            with running_service(folder, cameras) as service:
                try:
                    step = self._measure(service, names, rtsp_pid)
                except NotOnline as exc:
                    step = Step(n, False, [str(exc)])
                except Exception as exc:
                    raise RuntimeError(f"step {n}: {exc}; nvr log: {service.log_tail()}") from exc
                if not step.ok:  # what the service logged about it, for the reader (stderr: not the JSON line)
                    print(f"step {n} failed; nvr log:\n{service.log_tail(6000)}", file=sys.stderr, flush=True)
            for path in (folder / "data").rglob("*.mp4"):
                path.unlink()  # footage of a 64-camera step is a few GB
            step.ffmpeg_floor = self._floor(cameras, rtsp_pid, folder)
            floor = step.ffmpeg_floor.cpu_percent_per_camera
            if step.cpu_percent_per_camera and step.cpu_cores_by_process and floor > 0:
                step.ratio_to_ffmpeg_floor = round(step.cpu_percent_per_camera / floor, 2)
                recorders = sum(step.cpu_cores_by_process["recorder"]) * 100 / n
                step.recorders_ratio_to_ffmpeg_floor = round(recorders / floor, 2)
        return step

    def _measure(self, service: Service, names: list[str], rtsp_pid: int) -> Step:
        n = len(names)
        service.wait_online(timeout=30 + n)
        load = LoadGenerator(service.base, service.token, names)
        load.start()
        time.sleep(SETTLE_SECONDS)
        pids = service.pids()
        roles = service.roles(pids)
        recorders = sum(role == "recorder" for role in roles.values())
        rtsp_window, window = Window([rtsp_pid]), Window(pids)
        start = time.time()
        analysed = service.detection_frames()
        min_fps, peak_rss = math.inf, 0.0
        deadline = time.monotonic() + self.seconds
        while (left := deadline - time.monotonic()) > 0:
            time.sleep(min(SAMPLE_SECONDS, left))
            for camera in service.cameras():
                streams = [camera, camera.get("detect") or {}]
                min_fps = min(min_fps, *(float(s.get("fps") or 0.0) if s.get("status") == "online" else 0.0
                                         for s in streams))
            peak_rss = max(peak_rss, rss_mb(service.pids()))
        now_pids = service.pids()
        wall, spent, machine = window.end(now_pids)
        analysed_after = service.detection_frames()
        detection_fps = [(analysed_after.get(name, 0.0) - analysed.get(name, 0.0)) / wall for name in names]
        rtsp_wall, rtsp_spent, _ = rtsp_window.end([rtsp_pid])
        api = load.stop()
        checks = [recording_check(service, name, start) for name in names]
        gaps = sum(g for g, _ in checks)
        lags = [lag for _, lag in checks]
        late = sum(lag > LATE_SECONDS for lag in lags)
        restarts = len(set(now_pids) - set(pids)) + len(set(pids) - set(now_pids))
        failures = []
        if min_fps < MIN_FPS:
            failures.append(f"a camera fell to {min_fps} fps")
        if late:
            failures.append(f"{late} cameras' recordings late by more than {LATE_SECONDS} s")
        if gaps:
            failures.append(f"{gaps} gaps")
        if restarts:
            failures.append("a service process restarted")
        if api.errors or api.requests_per_s < 0.9 * REQUESTS_PER_SECOND:
            failures.append(f"API: {api.requests_per_s}/s, {api.errors} errors")
        cores = sum(spent.values()) / wall
        by_process: dict[str, Any] = {role: [round(spent[pid] / wall, 3) for pid in pids if roles.get(pid) == role]
                                      for role in ("supervisor", "station", "detector", "recorder", "other")}
        fixed_rss = self.baseline_rss_mb + (recorders - self.baseline_recorders) * self.recorder_rss_mb
        return Step(
            cameras=n, ok=not failures, failures=failures, cpu_cores=round(cores, 3),
            cpu_cores_by_process=by_process, cpu_percent_per_camera=round(cores * 100 / n, 2),
            rss_mb=round(peak_rss, 1), rss_mb_per_camera_total=round(peak_rss / n, 2),
            rss_mb_per_camera=round((peak_rss - fixed_rss) / n, 2), min_fps=round(min_fps, 2),
            detection_fps={"min": round(min(detection_fps), 2), "median": round(statistics.median(detection_fps), 2)},
            late_cameras=late, max_lag_s=round(max(lags), 2), gaps=gaps, restarts=restarts, api=api,
            rtsp_server_cpu_cores=round(sum(rtsp_spent.values()) / rtsp_wall, 3), machine_busy_cores=round(machine, 2))

    def _floor(self, cameras: list[tuple[str, str, str]], rtsp_pid: int, folder: Path) -> Floor:
        """ffmpeg segmenting each main stream and decoding each sub stream, over the same window length."""
        out = folder / "ffmpeg"
        out.mkdir()
        common = ["ffmpeg", "-nostdin", "-loglevel", "error", "-rtsp_transport", "tcp", "-i"]
        processes = []
        try:
            for name, main, sub in cameras:
                processes.append(subprocess.Popen(
                    [*common, main, "-c", "copy", "-f", "segment", "-segment_time", "60", "-reset_timestamps", "1",
                     str(out / f"{name}-%03d.mp4")], stdin=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
                processes.append(subprocess.Popen([*common, sub, "-f", "null", "-"], stdin=subprocess.DEVNULL,
                                                  stderr=subprocess.DEVNULL))
            time.sleep(5 + 0.05 * len(cameras) + SETTLE_SECONDS)  # connected and past the first keyframe
            pids = [p.pid for p in processes]
            written = folder_bytes(out)
            rtsp_window, window = Window([rtsp_pid]), Window(pids)
            time.sleep(self.seconds)
            wall, spent, machine = window.end(pids)
            rtsp_wall, rtsp_spent, _ = rtsp_window.end([rtsp_pid])
            written = folder_bytes(out) - written
            alive = sum(p.poll() is None for p in processes)
        finally:
            for process in processes:
                process.kill()
            for process in processes:
                process.wait()
        cores = sum(spent.values()) / wall
        return Floor(round(cores, 3), round(cores * 100 / len(cameras), 2),
                     round(sum(rtsp_spent.values()) / rtsp_wall, 3), round(machine, 2),
                     round(written * 8 / 1e6 / wall / len(cameras), 2), alive)


def rtsp_server_pid() -> int:
    """The RTSP server process: our child running rtsp_server_main.py."""
    for pid in descendants(os.getpid()):
        try:
            if b"rtsp_server_main.py" in Path(f"/proc/{pid}/cmdline").read_bytes():
                return pid
        except OSError:
            continue
    raise RuntimeError("no RTSP server process")


def folder_bytes(folder: Path) -> int:
    return sum(path.stat().st_size for path in folder.iterdir())


# ---------------------------------------------------------------------------------------------- main


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--steps", default=",".join(map(str, DEFAULT_STEPS)),
                        help="camera counts to try in turn, comma-separated (default: %(default)s)")
    parser.add_argument("--seconds", type=float, default=DEFAULT_SECONDS, help="measured window per step")
    parser.add_argument("--max", type=int, default=None, help="stop after the step with this many cameras")
    args = parser.parse_args()
    steps = sorted(int(s) for s in args.steps.split(","))
    if args.max is not None:
        steps = [s for s in steps if s <= args.max]
    results: list[Step] = []
    with tempfile.TemporaryDirectory(prefix="capacity-") as tmp:
        bench = Bench(Path(tmp), args.seconds)
        baseline = bench.baseline()
        for n in steps:
            results.append(bench.step(n))
            print(json.dumps({"progress": asdict(results[-1])}), file=sys.stderr, flush=True)
            if not results[-1].ok:
                break
    passed = [s for s in results if s.ok]
    best = passed[-1] if passed else None
    print(json.dumps({
        "benchmark": "capacity",
        "input": INPUT,
        "cores": os.cpu_count(),
        "seconds_per_step": args.seconds,
        "api_requests_per_s": REQUESTS_PER_SECOND,
        "baseline_no_camera": baseline,
        "rss_method": "rss_mb: the highest sum of VmRSS over the service's processes in the window; "
                      "rss_mb_per_camera: (rss_mb - the service with no camera - an idle recorder process for "
                      "each recorder process more than it had) / N; rss_mb_per_camera_total: rss_mb / N",
        "steps": [asdict(s) for s in results],
        "max_cameras_ok": best.cameras if best else 0,
        "ratio_to_ffmpeg_floor": best.ratio_to_ffmpeg_floor if best else None,
        "recorders_ratio_to_ffmpeg_floor": best.recorders_ratio_to_ffmpeg_floor if best else None,
        "cpu_percent_per_camera": best.cpu_percent_per_camera if best else None,
        "rss_mb_per_camera": best.rss_mb_per_camera if best else None,
        "rss_mb_per_camera_total": best.rss_mb_per_camera_total if best else None,
        "targets": TARGETS,
    }))


if __name__ == "__main__":
    main()
