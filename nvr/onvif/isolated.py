"""The station's way of reading ONVIF cameras: the WS-Discovery probe here (UDP, answers of bounded size),
the cameras in a child process of their own (`nvr/onvif/reader_process.py`), so that a hostile or broken
camera's answer can take neither the station's memory nor its event loop. A camera whose reading the child
did not report (it ran out of time, or stopped) says so in its error, and the child's last words are logged."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import math
import os
import sys
from collections.abc import AsyncIterator
from dataclasses import replace
from pathlib import Path

from ingest.urls import redact_text
from nvr.onvif.discovery import probe
from nvr.onvif.model import READ_AT_ONCE, FoundCamera

log = logging.getLogger(__name__)
START_SECONDS = 20.0  # Python and the ONVIF library's import, on a slow mini-PC
LINE_BYTES = 1 << 16  # one camera's line: its names and two stream URLs (a few kB: FoundCamera.bounded)
STDERR_BYTES = 4096  # of the child's stderr, logged when it did not report every camera
CHILD = "nvr.onvif.reader_process"
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
    request = {"cameras": [camera.as_dict() for camera in cameras],
               "user": user, "password": password, "timeout": answer_within, "seconds": seconds + 5}
    extra = os.environ.get("PYTHONPATH")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(SOURCE_ROOT), *([extra] if extra else [])])}
    # -P: not the working folder's modules in a process that holds a password
    child = await asyncio.create_subprocess_exec(
        sys.executable, "-P", "-m", CHILD, stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE, limit=LINE_BYTES, env=env)
    assert child.stdin is not None and child.stdout is not None and child.stderr is not None
    last_words = asyncio.ensure_future(_tail(child.stderr))
    read: dict[str, FoundCamera] = {}
    try:
        child.stdin.write(json.dumps(request).encode())
        await child.stdin.drain()
        child.stdin.close()
        async with asyncio.timeout(seconds):
            async for camera in _lines(child.stdout):
                read[camera.device] = camera
            await child.wait()
    except (TimeoutError, OSError):
        pass
    finally:
        if child.returncode is None:  # out of time, or the request cancelled
            with contextlib.suppress(ProcessLookupError):  # it ended meanwhile
                child.kill()
            await child.wait()
        said = redact_text((await last_words).decode(errors="replace").replace(password or "\0", "***"))
    if child.returncode or len(read) < len(cameras):
        log.warning("onvif: the reader child ended with %s, %d of %d cameras read; its last words: %s",
                    child.returncode, len(read), len(cameras), said.strip()[-2000:] or "none")
    return [read.get(camera.device) or replace(camera, error=NOT_READ, reason="other") for camera in cameras]


async def _lines(stdout: asyncio.StreamReader) -> AsyncIterator[FoundCamera]:
    """The cameras the child reports; a line that is not one (over LINE_BYTES, or not what the child writes) is
    left out, and the cameras after it are still read."""
    while True:
        try:
            answer = await stdout.readline()
        except ValueError:  # over LINE_BYTES: the stream goes on after it
            continue
        if not answer:
            return
        try:
            yield FoundCamera.from_dict(json.loads(answer))
        except (ValueError, KeyError, TypeError, AttributeError):  # not a JSON object of the child's
            continue


async def _tail(stream: asyncio.StreamReader) -> bytes:
    """The last STDERR_BYTES the child wrote on its stderr, read as it goes (a full pipe would stop it)."""
    kept = b""
    while chunk := await stream.read(1 << 16):
        kept = (kept + chunk)[-STDERR_BYTES:]
    return kept

