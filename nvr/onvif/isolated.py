"""The station's way of reading ONVIF cameras: the WS-Discovery probe here (UDP, answers of bounded size),
the cameras in a child process of their own (`nvr/onvif/reader_process.py`), so that a hostile or broken
camera's answer can take neither the station's memory nor its event loop. A camera whose reading the child
did not report (it ran out of time, or stopped) says so in its error."""

from __future__ import annotations

import asyncio
import json
import logging
import math
import os
import sys
from dataclasses import replace
from pathlib import Path

from nvr.onvif.discovery import probe
from nvr.onvif.model import READ_AT_ONCE, DeviceInfo, FoundCamera

log = logging.getLogger(__name__)
START_SECONDS = 20.0  # Python and the ONVIF library's import, on a slow mini-PC
LINE_BYTES = 1 << 16  # one camera's line: its names and two stream URLs
NOT_READ = "the camera could not be read: its reading stopped before it answered"
SOURCE_ROOT = Path(__file__).resolve().parents[2]  # where the `nvr` package is, for the child's imports


async def find_cameras(address: str | None, user: str, password: str, answer_within: float) -> list[FoundCamera]:
    """Probe (multicast, or unicast to `address`), then read every camera that answered, each within
    `answer_within` seconds. DiscoveryError if the probe cannot be sent."""
    announcements = await asyncio.to_thread(probe, address, answer_within)
    return await read_cameras([one.found() for one in announcements], user, password, answer_within)


async def read_cameras(cameras: list[FoundCamera], user: str, password: str, answer_within: float) -> list[FoundCamera]:
    """`cameras` (as announced) read in the child: each with its streams, or its error."""
    if not cameras:
        return []
    seconds = START_SECONDS + answer_within * (math.ceil(len(cameras) / READ_AT_ONCE) + 1)
    request = {"cameras": [{"device": c.device, "name": c.name, "hardware": c.hardware} for c in cameras],
               "user": user, "password": password, "timeout": answer_within, "seconds": seconds + 5}
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(SOURCE_ROOT), os.environ.get("PYTHONPATH", "")])}
    child = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "nvr.onvif.reader_process", stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.DEVNULL, limit=LINE_BYTES, env=env)
    assert child.stdin is not None and child.stdout is not None
    read: dict[str, FoundCamera] = {}
    try:
        child.stdin.write(json.dumps(request).encode())
        await child.stdin.drain()
        child.stdin.close()
        async with asyncio.timeout(seconds):
            while answer := await child.stdout.readline():
                camera = _camera(json.loads(answer))
                read[camera.device] = camera
    except (TimeoutError, ValueError, KeyError, TypeError, OSError) as exc:  # ValueError: a line over LINE_BYTES
        log.warning("onvif: the reader child stopped (%s); %d of %d cameras read", type(exc).__name__, len(read),
                    len(cameras))
    finally:
        if child.returncode is None:
            child.kill()
        await child.wait()
    return [read.get(camera.device) or replace(camera, error=NOT_READ, reason="other") for camera in cameras]


def _camera(data: dict[str, object]) -> FoundCamera:
    info = data["info"]
    return FoundCamera(str(data["device"]), str(data["name"]), str(data["hardware"]),
                       DeviceInfo.from_dict(info) if isinstance(info, dict) else None,
                       None if data["error"] is None else str(data["error"]),
                       None if data["reason"] is None else str(data["reason"]))
