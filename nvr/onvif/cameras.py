"""The cameras found on the network, each read for its streams (or why it could not be), as they are shown
(passwords hidden) and as they are added (with their credentials)."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any

from ingest.urls import redact_url, with_credentials
from nvr.onvif.device import DeviceError, DeviceInfo, read_device
from nvr.onvif.discovery import Announcement, probe

READ_AT_ONCE = 8  # cameras read side by side; a post's network and its cameras' small CPUs set the pace
NO_LOGIN = "give the camera's user name and password to read its streams"


@dataclass(frozen=True)
class FoundCamera:
    device: str  # its device service address (XAddr)
    name: str = ""  # from its scopes, as the installer named it
    hardware: str = ""
    info: DeviceInfo | None = None
    error: str | None = None
    reason: str | None = None  # the error's kind (DeviceError.reason, or no_login)

    def shown(self) -> dict[str, Any]:
        """For the API and `nvr discover --json`: stream URLs without passwords."""
        info = self.info
        main, sub = (info.main, info.sub) if info else (None, None)
        return {"device": self.device, "maker": info.maker if info else "", "model": info.model if info else "",
                "name": self.name, "hardware": self.hardware,
                "main_url": redact_url(main.url) if main else None, "resolution": main.resolution if main else None,
                "sub_url": redact_url(sub.url) if sub else None, "sub_resolution": sub.resolution if sub else None,
                "encoding": main.encoding if main else None, "error": self.error, "reason": self.reason}


async def find_cameras(address: str | None, user: str, password: str, answer_within: float) -> list[FoundCamera]:
    """Probe (multicast, or unicast to `address`), then read every camera that answered; each answer is
    awaited `answer_within` seconds. DiscoveryError if the probe cannot be sent."""
    announcements = await asyncio.to_thread(probe, address, answer_within)
    limit = asyncio.Semaphore(READ_AT_ONCE)

    async def read(announcement: Announcement) -> FoundCamera:
        async with limit:
            return await read_camera(announcement.device, user, password, answer_within, announcement)

    return list(await asyncio.gather(*map(read, announcements)))


async def read_camera(device: str, user: str, password: str, answer_within: float,
                      announcement: Announcement | None = None) -> FoundCamera:
    """One camera, by its device service address; its error says why it could not be read."""
    name, hardware = (announcement.scope("name"), announcement.scope("hardware")) if announcement else ("", "")
    if not user:
        return FoundCamera(device, name, hardware, error=NO_LOGIN, reason="no_login")
    try:
        return FoundCamera(device, name, hardware, info=await read_device(device, user, password, answer_within))
    except DeviceError as exc:
        return FoundCamera(device, name, hardware, error=str(exc), reason=exc.reason)


def stream_settings(info: DeviceInfo, user: str, password: str) -> dict[str, str]:
    """The camera's `record_url` (main stream) and `detect_url` (sub stream, when it has one), logging in
    with the credentials it was read with."""
    settings = {"record_url": with_credentials(info.main.url, user, password)}
    if info.sub is not None:
        settings["detect_url"] = with_credentials(info.sub.url, user, password)
    return settings
