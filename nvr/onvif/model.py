"""What reading an ONVIF camera gives: its streams, or why it could not be read; as shown (passwords hidden)
and as added (with its credentials). No ONVIF library here: the station process reads cameras only through
a child process (`nvr/onvif/isolated.py`) and builds these from its answers."""

from __future__ import annotations

from dataclasses import asdict, dataclass, replace
from typing import Any

from ingest.urls import redact_text, redact_url, with_credentials

NO_LOGIN = "give the camera's user name and password to read its streams"
READ_AT_ONCE = 8  # cameras read side by side; a post's network and its cameras' small CPUs set the pace
MAX_TEXT = 200  # characters of a name, maker, model or encoding, as a screen shows them
MAX_URL = 2048  # characters of an address or stream URL: no camera needs more
MAX_ERROR = 500


class DeviceError(Exception):
    """Why a camera could not be read, in words for the person at the screen; `reason` names the common
    cases for a screen that words them in its own language: login, timeout, not_onvif, unreachable, other."""

    def __init__(self, message: str, reason: str = "other") -> None:
        super().__init__(redact_text(message))  # a device address typed with its login repeats no password
        self.reason = reason


@dataclass(frozen=True)
class Stream:
    url: str  # as the camera gives it: no credentials
    width: int
    height: int
    encoding: str

    @property
    def resolution(self) -> str:
        return f"{self.width}x{self.height}"


@dataclass(frozen=True)
class DeviceInfo:
    maker: str
    model: str
    main: Stream
    sub: Stream | None

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> DeviceInfo:
        sub = data["sub"]
        return cls(str(data["maker"]), str(data["model"]), Stream(**data["main"]), Stream(**sub) if sub else None)


@dataclass(frozen=True)
class FoundCamera:
    device: str  # its device service address (XAddr)
    name: str = ""  # from its scopes, as the installer named it
    hardware: str = ""
    info: DeviceInfo | None = None
    error: str | None = None
    reason: str | None = None  # the error's kind (DeviceError.reason, or no_login)

    def bounded(self) -> FoundCamera:
        """Its texts cut to what a screen shows, and a stream URL longer than any camera's made its error: what a
        hostile device answers stays small on its way to the station (found in review: one camera's 70 kB URL
        lost every camera's reading)."""
        info = self.info
        if info is not None:
            streams = [stream for stream in (info.main, info.sub) if stream is not None]
            if any(len(stream.url) > MAX_URL for stream in streams):
                return FoundCamera(self.device, self.name[:MAX_TEXT], self.hardware[:MAX_TEXT],
                                   error=f"the camera's stream URL is longer than {MAX_URL} characters", reason="other")
            sub = None if info.sub is None else replace(info.sub, encoding=info.sub.encoding[:MAX_TEXT])
            info = DeviceInfo(info.maker[:MAX_TEXT], info.model[:MAX_TEXT],
                              replace(info.main, encoding=info.main.encoding[:MAX_TEXT]), sub)
        return FoundCamera(self.device, self.name[:MAX_TEXT], self.hardware[:MAX_TEXT], info,
                           None if self.error is None else self.error[:MAX_ERROR], self.reason)

    def as_dict(self) -> dict[str, Any]:
        """What the reader child and the station pass each other (JSON); `from_dict` reads it back."""
        return {"device": self.device, "name": self.name, "hardware": self.hardware,
                "info": self.info.as_dict() if self.info else None, "error": self.error, "reason": self.reason}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> FoundCamera:
        info, error, reason = data.get("info"), data.get("error"), data.get("reason")
        return cls(str(data["device"]), str(data["name"]), str(data["hardware"]),
                   DeviceInfo.from_dict(info) if isinstance(info, dict) else None,
                   None if error is None else str(error), None if reason is None else str(reason))

    def shown(self) -> dict[str, Any]:
        """For the API and `nvr discover --json`: URLs without passwords (a device address typed with its login too)."""
        info = self.info
        main, sub = (info.main, info.sub) if info else (None, None)
        return {"device": redact_url(self.device), "maker": info.maker if info else "",
                "model": info.model if info else "",
                "name": self.name, "hardware": self.hardware,
                "main_url": redact_url(main.url) if main else None, "resolution": main.resolution if main else None,
                "sub_url": redact_url(sub.url) if sub else None, "sub_resolution": sub.resolution if sub else None,
                "encoding": main.encoding if main else None, "error": self.error, "reason": self.reason}


def stream_settings(info: DeviceInfo, user: str, password: str) -> dict[str, str]:
    """The camera's `record_url` (main stream) and `detect_url` (sub stream, when it has one), logging in
    with the credentials it was read with."""
    settings = {"record_url": with_credentials(info.main.url, user, password)}
    if info.sub is not None:
        settings["detect_url"] = with_credentials(info.sub.url, user, password)
    return settings
