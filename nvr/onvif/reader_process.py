"""The ONVIF reader child: reads the cameras it is given and prints one JSON line per camera as it is read.

A camera is somebody's device on the post's network, and the ONVIF library reads its answers whole: a
compressed answer inflated to gigabytes, and parsing it held the event loop for seconds. The station
therefore reads cameras only in this child (`nvr/onvif/isolated.py`), whose data is limited (`MEMORY_BYTES`;
not its address space, which threads' malloc arenas fill on a machine of many cores): an answer that needs more
fails that camera's reading (aiohttp words it as a broken answer), the others are read and whose life is
bounded by an alarm besides its parent's deadline. It reads its request (with the cameras' password) from
stdin, never from its arguments, which any user of the machine can list.
"""

from __future__ import annotations

import asyncio
import functools
import json
import math
import resource
import signal
import sys
from typing import Any

from nvr.onvif.model import FoundCamera

MEMORY_BYTES = 512 << 20  # the child's data (heap and private maps): Python and the ONVIF library take ~75 MB
REQUEST_BYTES = 4 << 20  # MAX_FOUND cameras of bounded address and names


def line(camera: FoundCamera) -> str:
    """One camera's line, a few kB at most (`FoundCamera.bounded`)."""
    return json.dumps(camera.bounded().as_dict(), ensure_ascii=False)


def refuse_redirects() -> None:
    """The ONVIF library's requests follow a camera's redirects, and a 307 sends the signed login on to whatever
    address the camera names. In this process (and only here) aiohttp's POST and GET follow none: a redirect is
    that camera's error."""
    import aiohttp

    aiohttp.ClientSession.post = functools.partialmethod(aiohttp.ClientSession.post,  # type: ignore[method-assign, assignment]
                                                         allow_redirects=False)
    aiohttp.ClientSession.get = functools.partialmethod(aiohttp.ClientSession.get,  # type: ignore[method-assign, assignment]
                                                        allow_redirects=False)


def main() -> None:
    resource.setrlimit(resource.RLIMIT_DATA, (MEMORY_BYTES, MEMORY_BYTES))
    request: dict[str, Any] = json.loads(sys.stdin.read(REQUEST_BYTES))
    signal.alarm(math.ceil(request["seconds"]))  # ends it, whatever its parent does
    refuse_redirects()
    from nvr.onvif.cameras import read_cameras  # after the limit: the library's memory counts in it

    cameras = [FoundCamera.from_dict(camera) for camera in request["cameras"]]
    asyncio.run(read_cameras(cameras, str(request["user"]), str(request["password"]), float(request["timeout"]),
                             done=lambda camera: print(line(camera), flush=True)))


if __name__ == "__main__":
    main()
