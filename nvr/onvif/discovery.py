"""WS-Discovery: which ONVIF cameras (NetworkVideoTransmitters) answer a probe, multicast on the local
network or unicast to one address, and where their device services are.

The multicast probe is the WSDiscovery library's own. Its unicast probe sends from a socket it never reads,
so the answer a camera sends back to the probe's source port (as WS-Discovery says it must) is lost; one
address is probed here with the library's messages over a socket that waits for that answer.
"""

from __future__ import annotations

import socket
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote, urlsplit

from wsdiscovery.actions import NS_ACTION_PROBE_MATCH, constructProbe
from wsdiscovery.discovery import ThreadedWSDiscovery
from wsdiscovery.message import createSOAPMessage, parseSOAPMessage
from wsdiscovery.qname import QName

from nvr.onvif.model import MAX_URL, FoundCamera

DISCOVERY_PORT = 3702
VIDEO_TRANSMITTER = QName("http://www.onvif.org/ver10/network/wsdl", "NetworkVideoTransmitter", "dn")
SCOPE_PREFIX = "onvif://www.onvif.org/"
PROBE_COPIES = 2  # SOAP-over-UDP sends a unicast message twice: one lost datagram loses nothing
MAX_FOUND = 512  # cameras read after one probe: a post's network has up to a few hundred, a flood is cut there


class DiscoveryError(Exception):
    """The probe could not be sent: an address that does not resolve, no network."""


@dataclass(frozen=True)
class Announcement:
    """One camera's answer: its device service addresses (XAddrs) and scopes."""

    xaddrs: tuple[str, ...]
    scopes: tuple[str, ...]

    @property
    def device(self) -> str:
        """The device service address to read it at (the first HTTP one)."""
        return device_address(self.xaddrs)

    def scope(self, kind: str) -> str:
        """An `onvif://www.onvif.org/<kind>/<value>` scope's value (`name`, `hardware`, `location`), or ''."""
        prefix = f"{SCOPE_PREFIX}{kind}/"
        return next((unquote(s[len(prefix):]) for s in self.scopes if s.startswith(prefix)), "")

    def found(self) -> FoundCamera:
        """The camera as its answer names it, not read yet."""
        return FoundCamera(self.device, self.scope("name"), self.scope("hardware")).bounded()


def device_address(xaddrs: Sequence[str]) -> str:
    """Of the addresses a camera announces, the one its device service is read at (the first HTTP one)."""
    return next((x for x in xaddrs if x.lower().startswith(("http://", "https://"))), xaddrs[0])


def parse_address(text: str) -> tuple[str, int]:
    """`HOST`, `HOST:PORT` or `[IPv6]:PORT` as (host, port); the port defaults to WS-Discovery's 3702."""
    shown = text.rpartition("@")[2]  # a refusal repeats no user name or password typed into it (an audit)
    problem = DiscoveryError(f"address: {shown!r} is not HOST or HOST:PORT" if shown == text else
                             "address: give HOST or HOST:PORT alone (the camera's login goes in user and password)")
    try:
        parts = urlsplit(f"//{text.strip()}")
        host, port = parts.hostname, parts.port
    except ValueError:
        raise problem from None
    if not host or port == 0 or parts.path or parts.query or parts.fragment or parts.username is not None:
        raise problem
    return host, DISCOVERY_PORT if port is None else port


def probe(address: str | None = None, timeout: float = 3.0) -> list[Announcement]:
    """The cameras that answer within `timeout` seconds: all on the local network (multicast), or the one at
    `address` (`HOST[:PORT]`, unicast; returns at its answer). Blocks; sorted by device address."""
    matches = _unicast(*parse_address(address), timeout) if address else _multicast(timeout)
    found: dict[str, Announcement] = {}
    for match in matches:
        if match.getXAddrs():
            announcement = Announcement(tuple(match.getXAddrs()), tuple(str(s.getValue()) for s in match.getScopes()))
            if len(announcement.device) <= MAX_URL:  # no camera's address is longer; a flood's may be
                found.setdefault(announcement.device, announcement)
    return [found[device] for device in sorted(found)][:MAX_FOUND]


def _multicast(timeout: float) -> list[Any]:
    discovery = ThreadedWSDiscovery()
    try:
        discovery.start()
        return list(discovery.searchServices(types=[VIDEO_TRANSMITTER], timeout=timeout))
    except OSError as exc:
        raise DiscoveryError(f"the multicast probe could not be sent: {exc.strerror or exc}") from None
    finally:
        discovery.stop()


def _unicast(host: str, port: int, timeout: float) -> list[Any]:
    """The probe matches the camera at `host:port` sent back about itself: those whose address is its own (as it
    answered, or as typed). One answer listing sixty other addresses had the station log in to each of them."""
    try:
        family, kind, proto, _name, target = socket.getaddrinfo(host, port, type=socket.SOCK_DGRAM)[0]
    except socket.gaierror as exc:
        raise DiscoveryError(f"address: {host!r} does not resolve ({exc.strerror})") from None
    envelope = constructProbe([VIDEO_TRANSMITTER], None)
    message = createSOAPMessage(envelope).encode()
    deadline = time.monotonic() + timeout
    with socket.socket(family, kind, proto) as sock:
        try:
            for _ in range(PROBE_COPIES):
                sock.sendto(message, target)
        except OSError as exc:
            raise DiscoveryError(f"the probe to {host}:{port} could not be sent: {exc.strerror or exc}") from None
        while (left := deadline - time.monotonic()) > 0:
            sock.settimeout(left)
            try:
                data, sender = sock.recvfrom(65535)
            except TimeoutError:
                break
            answer = _parsed(data, sender[0])
            if (answer is not None and answer.getAction() == NS_ACTION_PROBE_MATCH
                    and answer.getRelatesTo() == envelope.getMessageId()):
                own = {host, sender[0]}
                return [match for match in answer.getProbeResolveMatches()
                        if match.getXAddrs() and urlsplit(device_address(match.getXAddrs())).hostname in own]
    return []


def _parsed(data: bytes, sender: str) -> Any:
    """The library's reading of a datagram, or None: its parsers raise on messages missing parts they expect,
    and its own receiving loop skips those too."""
    try:
        return parseSOAPMessage(data, sender)
    except Exception:
        return None
