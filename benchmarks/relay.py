"""District live relay cost: a post (`nvr run`, one 1920x1080@15 ~4 Mbit/s camera) and the district server
(`nvr district`) on one PostgreSQL catalog; viewers read the camera's `live.mp4` (main stream) through the
district. Measured for 1, 8 and 32 district viewers: the district's CPU per viewer and the post's CPU, which
must not grow with them (one upstream whatever the number of viewers); as the yardstick, the post's own CPU per
viewer when the same number read `live.mp4` from it directly; and the seconds from asking to the first
keyframe's fragment for a viewer joining the running relay. The viewers run in a process of their own and
only count bytes. Prints one JSON line."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.live import process_cpu_seconds
from benchmarks.media import camera_minute_1080p
from ingest.fmp4 import BoxReader
from tests.support.postgres import PostgresServer
from tests.support.processes import descendants, listening_pid
from tests.support.rtsp import free_port

PASSWORD = "benchmark-password"
STATION = "phuong-do"
MEASURE_SECONDS = 10.0
VIEWER_COUNTS = (1, 8, 32)
FIRST_FRAGMENT_JOINS = 5
KEY_VARIABLE = "NVR_BENCHMARK_KEY"  # how the viewer process gets its key: not on a command line


async def read_forever(client: httpx.AsyncClient, url: str, counted: list[int]) -> None:
    async with client.stream("GET", url, params={"quality": "main"}) as answer:
        answer.raise_for_status()
        async for chunk in answer.aiter_raw():
            counted[0] += len(chunk)


async def hold_viewers(url: str, key: str) -> None:
    """The viewer process: reads `N` from stdin, opens N more viewers of `url`, answers `ok` once bytes come
    to each; an empty line ends it."""
    loop = asyncio.get_running_loop()
    tasks: list[asyncio.Task[None]] = []
    async with httpx.AsyncClient(headers={"Authorization": f"Bearer {key}"}, timeout=30,
                                 limits=httpx.Limits(max_connections=100)) as client:
        while line := (await loop.run_in_executor(None, sys.stdin.readline)).strip():
            counts = [[0] for _ in range(int(line))]
            tasks += [asyncio.create_task(read_forever(client, url, counted)) for counted in counts]
            deadline = time.monotonic() + 30
            while not all(counted[0] for counted in counts):
                if time.monotonic() > deadline or any(task.done() for task in tasks):
                    raise RuntimeError("a viewer got no bytes")
                await asyncio.sleep(0.05)
            print("ok", flush=True)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)


class Viewers:
    """A process of viewers of one URL."""

    def __init__(self, url: str, key: str) -> None:
        self.process = subprocess.Popen([sys.executable, __file__, "viewers", url], stdin=subprocess.PIPE,
                                        stdout=subprocess.PIPE, text=True, env={**os.environ, KEY_VARIABLE: key})

    def add(self, count: int) -> None:
        assert self.process.stdin and self.process.stdout
        self.process.stdin.write(f"{count}\n")
        self.process.stdin.flush()
        if self.process.stdout.readline().strip() != "ok":
            raise RuntimeError("the viewer process failed")

    def close(self) -> None:
        assert self.process.stdin
        self.process.stdin.write("\n")
        self.process.stdin.flush()
        self.process.wait(30)


def cpu_shares(pids: list[int]) -> list[float]:
    """Each process's CPU as a share of one core over MEASURE_SECONDS."""
    before = [process_cpu_seconds(pid) for pid in pids]
    time.sleep(MEASURE_SECONDS)
    return [(process_cpu_seconds(pid) - was) / MEASURE_SECONDS for pid, was in zip(pids, before, strict=True)]


def per_viewer(url: str, key: str, measured: int, other: int | None = None) -> dict[str, list[float]]:
    """For each count of viewers of `url`: the CPU share of process `measured` per viewer (and of `other`)."""
    figures: dict[str, list[float]] = {"per_viewer_percent": [], "other_percent": []}
    viewers = Viewers(url, key)
    try:
        held = 0
        for count in VIEWER_COUNTS:
            viewers.add(count - held)
            held = count
            time.sleep(2)  # the newcomers' first fragments and handshakes are not the steady cost
            shares = cpu_shares([measured] + ([other] if other else []))
            figures["per_viewer_percent"].append(round(100 * shares[0] / count, 2))
            if other:
                figures["other_percent"].append(round(100 * shares[1], 2))
    finally:
        viewers.close()
    return figures


def first_fragment_seconds(url: str, key: str) -> list[float]:
    """Seconds from asking to the first fragment's picture data (the last keyframe's: the relay starts a
    newcomer there), for viewers joining one after another while one viewer keeps the relay open."""
    keeper = Viewers(url, key)
    keeper.add(1)
    seconds = []
    try:
        with httpx.Client(headers={"Authorization": f"Bearer {key}"}, timeout=30) as client:
            for _ in range(FIRST_FRAGMENT_JOINS):
                asked = time.monotonic()
                with client.stream("GET", url, params={"quality": "main"}) as answer:
                    boxes = BoxReader()
                    for chunk in answer.iter_raw():
                        if any(kind == b"mdat" for kind, _data in boxes.feed(chunk)):
                            break
                seconds.append(round(time.monotonic() - asked, 3))
                time.sleep(0.7)  # not a multiple of the 2 s GOP
    finally:
        keeper.close()
    return seconds


def wait_answering(url: str, headers: dict[str, str] | None = None, online: bool = False) -> None:
    """Until `url` answers 200 (`online`: with a camera's status `online`)."""
    deadline = time.monotonic() + 60
    while True:
        try:
            answer = httpx.get(url, headers=headers, timeout=5)
            if answer.status_code == 200 and (not online or answer.json().get("status") == "online"):
                return
        except httpx.HTTPError:
            pass
        if time.monotonic() > deadline:
            raise TimeoutError(f"{url} never answered")
        time.sleep(0.2)


def nvr(*args: str, env: dict[str, str] | None = None, cwd: Path | None = None) -> subprocess.Popen[bytes]:
    return subprocess.Popen([sys.executable, "-m", "nvr", *args], env={**os.environ, **(env or {})}, cwd=cwd,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def main() -> None:
    source = camera_minute_1080p()
    post_port, district_port = free_port(), free_port()
    with PostgresServer() as postgres, tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        post_config, district_config = folder / "post.yaml", folder / "district.yaml"
        post_config.write_text(yaml.safe_dump({
            "data_dir": "post-data", "station": {"id": STATION}, "server": {"port": post_port},
            "database": {"url": postgres.url()}, "storage": {"min_free_bytes": 0},
            "cameras": [{"name": "cam", "record_url": f"file://{source}", "detect": {"enabled": False}}]}))
        post = nvr("--config", str(post_config), "run", "--log-level", "WARNING", env={"NVR_ADMIN_PASSWORD": PASSWORD})
        processes = [post]
        try:
            post_base = f"http://127.0.0.1:{post_port}"
            wait_answering(f"{post_base}/api/health")
            key = subprocess.run([sys.executable, "-m", "nvr", "--config", str(post_config), "user", "key", "admin"],
                                 capture_output=True, text=True, check=True).stdout.strip()
            district_config.write_text(yaml.safe_dump({
                "data_dir": "district-data", "server": {"port": district_port}, "database": {"url": postgres.url()},
                "stations": [{"id": STATION, "url": post_base, "api_key": key}]}))
            district = nvr("district", "--config", str(district_config), "--log-level", "WARNING")
            processes.append(district)
            district_base = f"http://127.0.0.1:{district_port}"
            wait_answering(f"{district_base}/api/health")
            wait_answering(f"{post_base}/api/cameras/cam", {"Authorization": f"Bearer {key}"}, online=True)
            relayed = f"{district_base}/api/stations/{STATION}/cameras/cam/live.mp4"
            api = listening_pid(descendants(post.pid), post_port)  # the post's station process, not its supervisor
            assert api is not None, "the post's API process was not found"
            direct = per_viewer(f"{post_base}/api/cameras/cam/live.mp4", key, api)
            through = per_viewer(relayed, key, district.pid, api)
            joins = first_fragment_seconds(relayed, key)
        finally:
            for process in reversed(processes):
                process.send_signal(signal.SIGTERM)
                process.wait(30)
    ratios = [round(d / p, 2) for d, p in zip(through["per_viewer_percent"], direct["per_viewer_percent"], strict=True)]
    print(json.dumps({
        "benchmark": "relay", "input": "1920x1080@15 H.264 ~4 Mbit/s live.mp4 (main) of one post through the district",
        "viewers": list(VIEWER_COUNTS), "measure_s": MEASURE_SECONDS,
        "district_core_percent_per_viewer": through["per_viewer_percent"],
        "post_core_percent_while_relayed": through["other_percent"],
        "post_core_percent_per_direct_viewer": direct["per_viewer_percent"],
        "relay_to_direct_ratio": ratios,
        "first_keyframe_fragment_s": {"median": sorted(joins)[len(joins) // 2], "max": max(joins)},
        "targets": {"relay_to_direct_ratio": 1.0, "first_keyframe_fragment_s": 1.0}}))


if __name__ == "__main__":
    if sys.argv[1:2] == ["viewers"]:
        asyncio.run(hold_viewers(sys.argv[2], os.environ[KEY_VARIABLE]))
    else:
        main()
