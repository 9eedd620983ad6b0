"""Live view cost: server CPU per WebRTC viewer of a 1080p@15, 4 Mbit/s camera passed through, for 1, 8 and
32 viewers (the server in its own process, the viewers spread over VIEWER_PROCESSES others), and the time
to the first decoded frame for a viewer joining the running camera. The viewers' own CPU per viewer,
measured over the same seconds, is the yardstick for a noisy machine: they receive and decrypt every packet
the server sends, so a slow spell raises both. Prints one JSON line."""

from __future__ import annotations

import asyncio
import json
import logging
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
import yaml
from aiortc import MediaStreamTrack, RTCPeerConnection, RTCSessionDescription, rtcrtpreceiver
from aiortc.codecs.base import Decoder
from aiortc.jitterbuffer import JitterFrame
from aiortc.mediastreams import MediaStreamError
from av.frame import Frame

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.media import camera_minute_1080p
from tests.support.rtsp import free_port

PASSWORD = "benchmark-password"
MEASURE_SECONDS = 10.0
FIRST_FRAME_JOINS = 5
VIEWER_COUNTS = (1, 8, 32)
# 32 viewers need a whole core to receive and decrypt. In one process they fall behind, lose packets and
# flood the server with loss reports and bandwidth estimates (40 RTCP packets a second each instead of 3),
# which a real viewer, on its own screen or phone, does not.
VIEWER_PROCESSES = 2
HANG_UP = "hang up"
TOKEN_VARIABLE = "NVR_BENCHMARK_TOKEN"  # how a viewer process gets its token: not on a command line


class NullDecoder(Decoder):
    """Viewers that receive and decrypt everything but do not decode: the server is what is measured."""

    def decode(self, encoded_frame: JitterFrame) -> list[Frame]:
        return []


def process_cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def connect(base: str, token: str, *, decode: bool) -> tuple[RTCPeerConnection, asyncio.Future]:
    """A viewer; the future resolves with the seconds from the offer to the first frame."""
    peer = RTCPeerConnection()
    peer.addTransceiver("video", direction="recvonly")
    first: asyncio.Future = asyncio.get_running_loop().create_future()
    began = time.monotonic()

    async def drain(track: MediaStreamTrack) -> None:
        try:
            await track.recv()
            first.set_result(time.monotonic() - began)
            while True:
                await track.recv()
        except MediaStreamError:
            pass  # the viewer hung up

    peer.on("track", lambda track: asyncio.ensure_future(drain(track)) if decode else None)
    await peer.setLocalDescription(await peer.createOffer())
    async with httpx.AsyncClient(base_url=base, headers={"Authorization": f"Bearer {token}"}) as client:
        answer = await client.post("/api/cameras/cam/live", json={"sdp": peer.localDescription.sdp, "type": "offer",
                                                                  "quality": "main"}, timeout=30)
    answer.raise_for_status()
    await peer.setRemoteDescription(RTCSessionDescription(answer.json()["sdp"], answer.json()["type"]))
    return peer, first


async def first_frame_seconds(base: str, token: str) -> list[float]:
    """Seconds to the first decoded frame for viewers joining the running camera one after another, at
    different points of its GOP."""
    seconds = []
    for _ in range(FIRST_FRAME_JOINS):
        decoding, first = await connect(base, token, decode=True)
        seconds.append(await asyncio.wait_for(first, 30))
        await decoding.close()
        await asyncio.sleep(0.7)  # not a multiple of the 2 s GOP
    return seconds


async def wait_until_streaming(base: str, token: str) -> None:
    """A viewer at the server's start waits for the camera, which is not what a first frame costs."""
    deadline = time.monotonic() + 60
    async with httpx.AsyncClient(base_url=base, headers={"Authorization": f"Bearer {token}"}) as client:
        while (await client.get("/api/cameras/cam")).json().get("status") != "online":
            if time.monotonic() > deadline:
                raise TimeoutError("the benchmark camera never came online")
            await asyncio.sleep(0.2)


class ViewerProcess:
    """A process holding benchmark viewers that receive and decrypt but do not decode."""

    def __init__(self, process: asyncio.subprocess.Process) -> None:
        self._process = process

    @classmethod
    async def start(cls, base: str, token: str) -> ViewerProcess:
        """A viewer process, once it is ready (its imports would otherwise count in its idle share)."""
        pool = cls(await asyncio.create_subprocess_exec(
            sys.executable, __file__, "viewers", base, env={**os.environ, TOKEN_VARIABLE: token},
            stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE))
        await pool.add(0)
        return pool

    async def add(self, count: int) -> None:
        """Connect `count` more viewers."""
        await self._tell(str(count))

    async def hang_up(self) -> None:
        await self._tell(HANG_UP)

    async def _tell(self, line: str) -> None:
        assert self._process.stdin and self._process.stdout
        self._process.stdin.write(f"{line}\n".encode())
        await self._process.stdin.drain()
        if (await self._process.stdout.readline()).strip() != b"ok":
            raise RuntimeError(f"a viewer process failed to {line}")

    def cpu_seconds(self) -> float:
        return process_cpu_seconds(self._process.pid)

    async def close(self) -> None:
        assert self._process.stdin
        self._process.stdin.close()
        await self._process.wait()


async def hold_viewers(base: str, token: str) -> None:
    """The viewer process: connects as many more viewers as a line of stdin says, or hangs them all up; until
    stdin closes."""
    logging.disable(logging.WARNING)
    rtcrtpreceiver.get_decoder = lambda codec: NullDecoder()
    loop = asyncio.get_running_loop()
    peers: list[RTCPeerConnection] = []
    while line := (await loop.run_in_executor(None, sys.stdin.readline)).strip():
        if line == HANG_UP:
            await asyncio.gather(*(peer.close() for peer in peers))
            peers.clear()
        else:
            peers += [(await connect(base, token, decode=False))[0] for _ in range(int(line))]
        print("ok", flush=True)


async def measure(base: str, token: str, pid: int) -> dict[str, object]:
    await wait_until_streaming(base, token)
    first_frame_s = await first_frame_seconds(base, token)
    pools = [await ViewerProcess.start(base, token) for _ in range(VIEWER_PROCESSES)]
    await asyncio.sleep(2)
    before = await cpu_over(pid, pools)
    shares: dict[int, tuple[float, float]] = {}
    connected = 0
    for count in VIEWER_COUNTS:
        more = count - connected
        await asyncio.gather(*(pool.add(more // len(pools) + (i < more % len(pools))) for i, pool in enumerate(pools)))
        connected = count
        await asyncio.sleep(3)  # connections settle
        shares[count] = await cpu_over(pid, pools)
    await asyncio.gather(*(pool.hang_up() for pool in pools))
    await asyncio.sleep(3)
    after = await cpu_over(pid, pools)
    await asyncio.gather(*(pool.close() for pool in pools))
    # the idle server drifts too: its share before and after, averaged, is what viewers add to
    baseline, viewers_baseline = (before[0] + after[0]) / 2, (before[1] + after[1]) / 2
    per_viewer, viewers_per_viewer, ratio = {}, {}, {}
    for count, (share, viewers_share) in shares.items():
        per_viewer[str(count)] = round((share - baseline) / count * 100, 2)
        viewers_per_viewer[str(count)] = round((viewers_share - viewers_baseline) / count * 100, 2)
        viewers_added = viewers_share - viewers_baseline
        ratio[str(count)] = round((share - baseline) / viewers_added, 3) if viewers_added > 0 else None
    return {"server_core_percent_per_viewer": per_viewer,
            "server_core_percent_without_viewers": [round(before[0] * 100, 2), round(after[0] * 100, 2)],
            "viewer_side_core_percent_per_viewer": viewers_per_viewer,
            "server_to_viewer_side_cpu": ratio,
            "time_to_first_frame_s": {"median": round(statistics.median(first_frame_s), 3),
                                      "max": round(max(first_frame_s), 3)}}


async def cpu_over(pid: int, pools: list[ViewerProcess]) -> tuple[float, float]:
    """Server CPU and the viewer processes' CPU, as shares of one core over MEASURE_SECONDS."""
    server, viewers = process_cpu_seconds(pid), sum(pool.cpu_seconds() for pool in pools)
    await asyncio.sleep(MEASURE_SECONDS)
    viewers = sum(pool.cpu_seconds() for pool in pools) - viewers
    return (process_cpu_seconds(pid) - server) / MEASURE_SECONDS, viewers / MEASURE_SECONDS


def main() -> None:
    logging.disable(logging.WARNING)
    source = camera_minute_1080p()
    port = free_port()
    with tempfile.TemporaryDirectory() as tmp:
        config = Path(tmp) / "config.yaml"
        config.write_text(yaml.safe_dump({
            "data_dir": "data", "server": {"port": port}, "storage": {"min_free_bytes": 0},
            # detection off: it would decode the 1080p stream, which is not what a viewer costs
            "cameras": [{"name": "cam", "record_url": f"file://{source}", "detect": {"enabled": False}}]}))
        server = subprocess.Popen([sys.executable, "-m", "nvr", "--config", str(config), "run",
                                   "--log-level", "WARNING"], env={**os.environ, "NVR_ADMIN_PASSWORD": PASSWORD},
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        base = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + 60
            while True:
                try:
                    token = httpx.post(f"{base}/api/auth/login", json={"username": "admin", "password": PASSWORD},
                                       timeout=5).json()["token"]
                    break
                except (httpx.HTTPError, KeyError):
                    if time.monotonic() > deadline:
                        raise
                    time.sleep(0.2)
            figures = asyncio.run(measure(base, token, server.pid))
        finally:
            server.send_signal(signal.SIGTERM)
            server.wait(30)
    print(json.dumps({"benchmark": "live", "input": "1920x1080@15 H.264 ~4 Mbit/s, passthrough (main stream)",
                      **figures, "targets": {"server_core_percent_per_viewer": 2.0, "time_to_first_frame_s": 1.0}}))


if __name__ == "__main__":
    if sys.argv[1:2] == ["viewers"]:
        asyncio.run(hold_viewers(sys.argv[2], os.environ[TOKEN_VARIABLE]))
    else:
        main()
