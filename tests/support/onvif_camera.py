"""A simulated ONVIF camera on 127.0.0.1: its device and media services answer SOAP over HTTP as a real
camera does (WS-Security UsernameToken digests checked against its own clock, SOAP faults), and it
answers WS-Discovery probes sent to its UDP port with a ProbeMatch sent back to the prober's address."""

from __future__ import annotations

import base64
import hashlib
import socket
import threading
import time
import uuid
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Self
from urllib.parse import quote
from xml.sax.saxutils import escape

HOST = "127.0.0.1"
SOAP = "http://www.w3.org/2003/05/soap-envelope"
WSSE = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd"
WSU = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-utility-1.0.xsd"
DEVICE_NS = "http://www.onvif.org/ver10/device/wsdl"
MEDIA_NS = "http://www.onvif.org/ver10/media/wsdl"
ADDRESSING = "http://schemas.xmlsoap.org/ws/2004/08/addressing"
DISCOVERY = "http://schemas.xmlsoap.org/ws/2005/04/discovery"
PROBE_MATCHES = "http://schemas.xmlsoap.org/ws/2005/04/discovery/ProbeMatches"
NAMESPACES = (f'xmlns:s="{SOAP}" xmlns:tds="{DEVICE_NS}" xmlns:trt="{MEDIA_NS}" '
              'xmlns:tt="http://www.onvif.org/ver10/schema" xmlns:ter="http://www.onvif.org/ver10/error"')
FRESH = timedelta(minutes=5)  # how far a token's Created may be from the camera's clock
OPEN_OPERATIONS = {"GetSystemDateAndTime"}  # answered without a login, as ONVIF allows


@dataclass(frozen=True)
class Profile:
    token: str
    width: int
    height: int
    stream_url: str
    encoding: str = "H264"


def _envelope(body: str) -> bytes:
    return (f'<?xml version="1.0" encoding="UTF-8"?><s:Envelope {NAMESPACES}><s:Body>{body}</s:Body>'
            "</s:Envelope>").encode()


def _fault(subcode: str, reason: str) -> bytes:
    return _envelope(f"<s:Fault><s:Code><s:Value>s:Sender</s:Value><s:Subcode><s:Value>{subcode}</s:Value>"
                     f"</s:Subcode></s:Code><s:Reason><s:Text xml:lang=\"en\">{escape(reason)}</s:Text></s:Reason>"
                     "</s:Fault>")


def password_digest(nonce: bytes, created: str, password: str) -> str:
    """WS-Security UsernameToken PasswordDigest: Base64(SHA-1(nonce + created + password))."""
    return base64.b64encode(hashlib.sha1(nonce + created.encode() + password.encode()).digest()).decode()


class SimulatedOnvifCamera:
    """`profiles` are served by GetProfiles / GetStreamUri; `clock_offset`: seconds the camera's clock is off
    (it checks tokens against its own clock, as cameras do); `delay`: seconds every SOAP answer waits (a
    camera that hangs). `requests` lists the operations asked, `refused` the ones refused for the login."""

    def __init__(self, profiles: list[Profile], *, user: str, password: str, maker: str = "Hikvision",
                 model: str = "DS-2CD1023G0E-I", name: str = "Cong cho", clock_offset: float = 0.0) -> None:
        self.profiles = profiles
        self.user, self.password = user, password
        self.maker, self.model, self.name = maker, model, name
        self.clock_offset = clock_offset
        self.delay = 0.0
        self.requests: list[str] = []
        self.refused: list[str] = []
        self.endpoint = f"urn:uuid:{uuid.uuid4()}"
        self._http = ThreadingHTTPServer((HOST, 0), self._handler())
        self._http.daemon_threads = True
        self._udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self._udp.bind((HOST, 0))
        self._stopping = threading.Event()
        self._threads = [threading.Thread(target=self._http.serve_forever, name="onvif-http", daemon=True),
                         threading.Thread(target=self._answer_probes, name="onvif-discovery", daemon=True)]

    @property
    def port(self) -> int:
        return self._http.server_address[1]

    @property
    def xaddr(self) -> str:
        """The device service address, as the camera announces it."""
        return f"http://{HOST}:{self.port}/onvif/device_service"

    @property
    def discovery_port(self) -> int:
        return self._udp.getsockname()[1]

    def clock(self) -> datetime:
        return datetime.now(UTC) + timedelta(seconds=self.clock_offset)

    # ------------------------------------------------------------------ SOAP over HTTP

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        camera = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                request = ET.fromstring(self.rfile.read(int(self.headers.get("Content-Length", 0))))
                status, reply = camera.answer(self.path, request)
                time.sleep(camera.delay)
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/soap+xml; charset=utf-8")
                    self.send_header("Content-Length", str(len(reply)))
                    self.end_headers()
                    self.wfile.write(reply)
                except (BrokenPipeError, ConnectionResetError):  # the client gave up waiting
                    pass

            def log_message(self, format: str, *args: object) -> None:  # noqa: A002 (the base class names it)
                pass

        return Handler

    def answer(self, path: str, request: ET.Element) -> tuple[int, bytes]:
        body = request.find(f"{{{SOAP}}}Body")
        operation_element = body[0] if body is not None and len(body) else None
        if operation_element is None:
            return 400, _fault("ter:InvalidArgVal", "no operation")
        operation = operation_element.tag.rpartition("}")[2]
        self.requests.append(operation)
        if operation not in OPEN_OPERATIONS and not self._logged_in(request):
            self.refused.append(operation)
            return 400, _fault("ter:NotAuthorized", "Sender not Authorized")
        answers = {"/onvif/device_service": self._device, "/onvif/media_service": self._media}
        if path not in answers or (reply := answers[path](operation, operation_element)) is None:
            return 400, _fault("ter:ActionNotSupported", f"{operation} is not supported at {path}")
        return 200, _envelope(reply)

    def _logged_in(self, request: ET.Element) -> bool:
        token = request.find(f"{{{SOAP}}}Header/{{{WSSE}}}Security/{{{WSSE}}}UsernameToken")
        if token is None:
            return False
        user, digest = token.findtext(f"{{{WSSE}}}Username"), token.findtext(f"{{{WSSE}}}Password")
        nonce, created = token.findtext(f"{{{WSSE}}}Nonce"), token.findtext(f"{{{WSU}}}Created")
        if None in (user, digest, nonce, created):
            return False
        assert user is not None and digest is not None and nonce is not None and created is not None
        try:
            fresh = abs(datetime.fromisoformat(created) - self.clock()) <= FRESH
        except ValueError:
            return False
        return fresh and user == self.user and digest == password_digest(base64.b64decode(nonce), created,
                                                                         self.password)

    def _device(self, operation: str, _request: ET.Element) -> str | None:
        if operation == "GetSystemDateAndTime":
            now = self.clock()
            return ("<tds:GetSystemDateAndTimeResponse><tds:SystemDateAndTime><tt:DateTimeType>NTP</tt:DateTimeType>"
                    "<tt:DaylightSavings>false</tt:DaylightSavings><tt:TimeZone><tt:TZ>ICT-7</tt:TZ></tt:TimeZone>"
                    f"<tt:UTCDateTime><tt:Time><tt:Hour>{now.hour}</tt:Hour><tt:Minute>{now.minute}</tt:Minute>"
                    f"<tt:Second>{now.second}</tt:Second></tt:Time><tt:Date><tt:Year>{now.year}</tt:Year>"
                    f"<tt:Month>{now.month}</tt:Month><tt:Day>{now.day}</tt:Day></tt:Date></tt:UTCDateTime>"
                    "</tds:SystemDateAndTime></tds:GetSystemDateAndTimeResponse>")
        if operation == "GetServices":
            base = f"http://{HOST}:{self.port}/onvif"
            services = "".join(f"<tds:Service><tds:Namespace>{ns}</tds:Namespace><tds:XAddr>{base}/{path}</tds:XAddr>"
                               "<tds:Version><tt:Major>2</tt:Major><tt:Minor>60</tt:Minor></tds:Version></tds:Service>"
                               for ns, path in ((DEVICE_NS, "device_service"), (MEDIA_NS, "media_service")))
            return f"<tds:GetServicesResponse>{services}</tds:GetServicesResponse>"
        if operation == "GetDeviceInformation":
            return (f"<tds:GetDeviceInformationResponse><tds:Manufacturer>{escape(self.maker)}</tds:Manufacturer>"
                    f"<tds:Model>{escape(self.model)}</tds:Model><tds:FirmwareVersion>V5.7.3</tds:FirmwareVersion>"
                    "<tds:SerialNumber>DS-2CD1023G0E-I20220101AAWRG12345678</tds:SerialNumber>"
                    "<tds:HardwareId>88</tds:HardwareId></tds:GetDeviceInformationResponse>")
        return None

    def _media(self, operation: str, request: ET.Element) -> str | None:
        if operation == "GetProfiles":
            return f"<trt:GetProfilesResponse>{''.join(map(_profile, self.profiles))}</trt:GetProfilesResponse>"
        if operation == "GetStreamUri":
            token = request.findtext(f"{{{MEDIA_NS}}}ProfileToken")
            profile = next((p for p in self.profiles if p.token == token), None)
            if profile is None:
                return None
            return (f"<trt:GetStreamUriResponse><trt:MediaUri><tt:Uri>{escape(profile.stream_url)}</tt:Uri>"
                    "<tt:InvalidAfterConnect>false</tt:InvalidAfterConnect>"
                    "<tt:InvalidAfterReboot>false</tt:InvalidAfterReboot><tt:Timeout>PT60S</tt:Timeout>"
                    "</trt:MediaUri></trt:GetStreamUriResponse>")
        return None

    # ------------------------------------------------------------------ WS-Discovery over UDP

    def _answer_probes(self) -> None:
        while True:
            data, sender = self._udp.recvfrom(65535)
            if self._stopping.is_set():
                return
            try:
                probe = ET.fromstring(data)
            except ET.ParseError:
                continue
            action = probe.findtext(f".//{{{ADDRESSING}}}Action", "").strip()
            message_id = probe.findtext(f".//{{{ADDRESSING}}}MessageID", "").strip()
            # the types asked, by local name (a real camera resolves their prefixes)
            types = probe.findtext(f".//{{{DISCOVERY}}}Types", "")
            if action.endswith("/Probe") and (not types or "NetworkVideoTransmitter" in types):
                self._udp.sendto(self.probe_match(message_id), sender)

    def probe_match(self, relates_to: str) -> bytes:
        """The ProbeMatches answer, shaped as cameras send it (their own prefixes, percent-encoded scopes)."""
        scopes = " ".join(f"onvif://www.onvif.org/{scope}" for scope in (
            "type/video_encoder", "Profile/Streaming", f"name/{quote(self.name)}",
            f"hardware/{self.model}", "location/city/hanoi"))
        return (f'<?xml version="1.0" encoding="UTF-8"?><SOAP-ENV:Envelope xmlns:SOAP-ENV="{SOAP}" '
                f'xmlns:wsa="{ADDRESSING}" xmlns:wsdd="{DISCOVERY}" xmlns:dn="http://www.onvif.org/ver10/network/wsdl" '
                f'xmlns:tds="{DEVICE_NS}"><SOAP-ENV:Header><wsa:MessageID>urn:uuid:{uuid.uuid4()}</wsa:MessageID>'
                f"<wsa:RelatesTo>{escape(relates_to)}</wsa:RelatesTo>"
                f"<wsa:To>{ADDRESSING}/role/anonymous</wsa:To><wsa:Action>{PROBE_MATCHES}</wsa:Action>"
                '</SOAP-ENV:Header><SOAP-ENV:Body><wsdd:ProbeMatches><wsdd:ProbeMatch><wsa:EndpointReference>'
                f"<wsa:Address>{self.endpoint}</wsa:Address></wsa:EndpointReference>"
                "<wsdd:Types>dn:NetworkVideoTransmitter tds:Device</wsdd:Types>"
                f"<wsdd:Scopes>{escape(scopes)}</wsdd:Scopes>"
                f"<wsdd:XAddrs>{self.xaddr}</wsdd:XAddrs><wsdd:MetadataVersion>1</wsdd:MetadataVersion>"
                "</wsdd:ProbeMatch></wsdd:ProbeMatches></SOAP-ENV:Body></SOAP-ENV:Envelope>").encode()

    # ------------------------------------------------------------------ life

    def start(self) -> None:
        for thread in self._threads:
            thread.start()

    def stop(self) -> None:
        self._http.shutdown()
        self._http.server_close()
        self._stopping.set()
        self._udp.sendto(b"", self._udp.getsockname())  # wakes the responder (closing its socket would not)
        for thread in self._threads:
            thread.join(5)
        self._udp.close()

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def _profile(profile: Profile) -> str:
    return (f'<trt:Profiles token="{profile.token}" fixed="true"><tt:Name>{profile.token}</tt:Name>'
            f'<tt:VideoEncoderConfiguration token="encoder_{profile.token}"><tt:Name>{profile.token}</tt:Name>'
            f"<tt:UseCount>1</tt:UseCount><tt:Encoding>{profile.encoding}</tt:Encoding>"
            f"<tt:Resolution><tt:Width>{profile.width}</tt:Width><tt:Height>{profile.height}</tt:Height></tt:Resolution>"
            "<tt:Quality>4</tt:Quality><tt:RateControl><tt:FrameRateLimit>15</tt:FrameRateLimit>"
            "<tt:EncodingInterval>1</tt:EncodingInterval><tt:BitrateLimit>4096</tt:BitrateLimit></tt:RateControl>"
            "<tt:Multicast><tt:Address><tt:Type>IPv4</tt:Type><tt:IPv4Address>0.0.0.0</tt:IPv4Address></tt:Address>"
            "<tt:Port>0</tt:Port><tt:TTL>1</tt:TTL><tt:AutoStart>false</tt:AutoStart></tt:Multicast>"
            "<tt:SessionTimeout>PT60S</tt:SessionTimeout></tt:VideoEncoderConfiguration></trt:Profiles>")
