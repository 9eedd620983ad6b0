"""The cameras found on the network, each read for its streams (or why it could not be), in this process: the
command line's and the reader child's (`nvr/onvif/reader_process.py`); the station reads them through the child."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from nvr.onvif.device import read_device
from nvr.onvif.discovery import probe
from nvr.onvif.model import NO_LOGIN, READ_AT_ONCE, DeviceError, FoundCamera


async def find_cameras(address: str | None, user: str, password: str, answer_within: float) -> list[FoundCamera]:
    """Probe (multicast, or unicast to `address`), then read every camera that answered; each answer is
    awaited `answer_within` seconds. DiscoveryError if the probe cannot be sent."""
    announcements = await asyncio.to_thread(probe, address, answer_within)
    return await read_cameras([one.found() for one in announcements], user, password, answer_within)


async def read_cameras(cameras: list[FoundCamera], user: str, password: str, answer_within: float,
                       done: Callable[[FoundCamera], None] = lambda _camera: None) -> list[FoundCamera]:
    """Read `cameras` (as announced), READ_AT_ONCE at a time; `done` hears of each as soon as it is read."""
    limit = asyncio.Semaphore(READ_AT_ONCE)

    async def read(camera: FoundCamera) -> FoundCamera:
        async with limit:
            found = await read_camera(camera.device, user, password, answer_within, camera.name, camera.hardware)
        done(found)
        return found

    return list(await asyncio.gather(*map(read, cameras)))


async def read_camera(device: str, user: str, password: str, answer_within: float, name: str = "",
                      hardware: str = "") -> FoundCamera:
    """One camera, by its device service address; its error says why it could not be read."""
    if not user:
        return FoundCamera(device, name, hardware, error=NO_LOGIN, reason="no_login")
    try:
        return FoundCamera(device, name, hardware, info=await read_device(device, user, password, answer_within))
    except DeviceError as exc:
        return FoundCamera(device, name, hardware, error=str(exc), reason=exc.reason)
