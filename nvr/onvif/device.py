"""Read one ONVIF camera with onvif-zeep-async: its maker and model, and the RTSP URLs of its main stream
(the media profile of the highest resolution) and sub stream (the lowest, when lower).

Async, bounded by a timeout: the API awaits it on the server's event loop, the command line in a loop of its
own. Failures come out as a DeviceError worded for the technician ("the camera refused the user name or
password"), never with the password.
"""

from __future__ import annotations

import asyncio
import os
from typing import Any
from urllib.parse import urlsplit

import aiohttp
from onvif import ONVIFCamera, ONVIFError
from zeep.exceptions import Error as SoapError
from zeep.exceptions import Fault, TransportError

from nvr.onvif.model import DeviceError, DeviceInfo, Stream

WRONG_LOGIN = "the camera refused the user name or password"
# ter:NotAuthorized is ONVIF's; cameras also answer with WS-Security's own fault codes
LOGIN_FAULTS = frozenset({"NotAuthorized", "FailedAuthentication", "InvalidSecurity", "InvalidSecurityToken"})
STREAM_SETUP = {"Stream": "RTP-Unicast", "Transport": {"Protocol": "RTSP"}}
PROXY_VARIABLES = ("http_proxy", "https_proxy")


async def read_device(xaddr: str, user: str, password: str, answer_within: float) -> DeviceInfo:
    """The camera whose device service is at `xaddr`, logging in as `user`; DeviceError if it cannot be read
    within `answer_within` seconds."""
    host, port = _endpoint(xaddr)
    try:
        async with asyncio.timeout(answer_within):
            return await _read(_camera(host, port, user, password))
    except TimeoutError:
        raise DeviceError(f"the camera did not answer within {answer_within:g} s", "timeout") from None
    except Fault as exc:
        raise _fault_error(exc, xaddr) from None
    except TransportError as exc:
        raise (DeviceError(WRONG_LOGIN, "login") if exc.status_code == 401 else
               _not_onvif(xaddr, f"HTTP {exc.status_code}")) from None
    except SoapError:
        raise _not_onvif(xaddr) from None
    except aiohttp.ClientConnectorError as exc:
        reason = os.strerror(exc.os_error.errno) if exc.os_error.errno else str(exc.os_error)
        raise DeviceError(f"could not connect to {xaddr} ({reason.lower()})", "unreachable") from None
    except aiohttp.ClientError as exc:
        raise DeviceError(f"the connection to {xaddr} failed ({exc})", "unreachable") from None
    except ONVIFError as exc:
        raise DeviceError(f"the camera's ONVIF services could not be used ({exc.args[0]})") from None
    except (AttributeError, TypeError, ValueError) as exc:  # an answer without the parts it should have
        raise DeviceError(f"the camera's answer could not be understood ({exc})") from None


def _endpoint(xaddr: str) -> tuple[str, int]:
    """The host and port ONVIFCamera takes (an https camera's host carries its scheme)."""
    problem = DeviceError(f"device: {xaddr!r} is not an http:// or https:// address")
    try:
        parts = urlsplit(xaddr)
        host, port, scheme = parts.hostname, parts.port, parts.scheme.lower()
    except ValueError:
        raise problem from None
    if not host or scheme not in ("http", "https"):
        raise problem
    if scheme == "https":
        return (f"https://[{host}]" if ":" in host else f"https://{host}"), port or 443
    return host, port or 80


def _camera(host: str, port: int, user: str, password: str) -> Any:
    """ONVIFCamera drops http_proxy / https_proxy from the process's environment; the rest of the station
    keeps them (ONVIF's own connections ignore them either way). `adjust_time`: the camera's clock, often
    wrong, is asked first, so that the login's timestamp is what the camera expects."""
    saved = {name: os.environ[name] for name in PROXY_VARIABLES if name in os.environ}
    try:
        return ONVIFCamera(host, port, user, password, no_cache=True, adjust_time=True)
    finally:
        os.environ.update(saved)


async def _read(camera: Any) -> DeviceInfo:
    try:
        await camera.update_xaddrs()
        info = await (await camera.create_devicemgmt_service()).GetDeviceInformation()
        media = await camera.create_media_service()
        main, sub = _main_and_sub(await media.GetProfiles() or [])
        return DeviceInfo(maker=(info.Manufacturer or "").strip(), model=(info.Model or "").strip(),
                          main=await _stream(media, main), sub=await _stream(media, sub) if sub else None)
    finally:
        await camera.close()


def _pixels(profile: Any) -> int:
    resolution = profile.VideoEncoderConfiguration.Resolution
    return int(resolution.Width) * int(resolution.Height)


def _main_and_sub(profiles: list[Any]) -> tuple[Any, Any]:
    """The profile of the highest resolution and, when lower, of the lowest; JPEG profiles only when there
    is nothing else (the station records H.264 / H.265)."""
    video = sorted((p for p in profiles if p.VideoEncoderConfiguration is not None), key=_pixels)
    if not video:
        raise DeviceError("the camera has no video profile")
    usable = [p for p in video if p.VideoEncoderConfiguration.Encoding != "JPEG"] or video
    main, lowest = usable[-1], usable[0]
    return main, lowest if _pixels(lowest) < _pixels(main) else None


async def _stream(media: Any, profile: Any) -> Stream:
    answer = await media.GetStreamUri({"StreamSetup": STREAM_SETUP, "ProfileToken": profile.token})
    if not answer.Uri:
        raise DeviceError(f"the camera gave no stream URL for its profile {profile.token!r}")
    encoder = profile.VideoEncoderConfiguration
    return Stream(url=str(answer.Uri).strip(), width=int(encoder.Resolution.Width),
                  height=int(encoder.Resolution.Height), encoding=str(encoder.Encoding))


def _fault_error(fault: Fault, xaddr: str) -> DeviceError:
    if fault.code is None:  # zeep's reading of an error answer that holds no SOAP fault
        return _not_onvif(xaddr)
    codes = {getattr(code, "localname", str(code)) for code in fault.subcodes or []}
    if codes & LOGIN_FAULTS or "not authorized" in (fault.message or "").lower():
        return DeviceError(WRONG_LOGIN, "login")
    return DeviceError(f"the camera answered with an error: {fault.message}")


def _not_onvif(xaddr: str, answer: str = "no SOAP answer") -> DeviceError:
    return DeviceError(f"not an ONVIF camera ({answer} from {xaddr})", "not_onvif")
