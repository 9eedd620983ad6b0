"""config.yaml: typed models, loading, environment substitution and precise error messages."""

from __future__ import annotations

import ipaddress
import os
import re
import socket
import tempfile
from collections.abc import Hashable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Literal
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml
from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)

from detect.events import EventPolicy, EventType
from detect.settings import BankSettings, CameraDetectSettings
from ingest.demo_scene_names import DEMO_SCENE_NAMES
from ingest.urls import Transport, file_path, redact_url, register_secret, register_url_secrets, url_problem

if TYPE_CHECKING:
    from sqlalchemy.engine import URL

CAMERA_NAME = re.compile(r"^[a-z0-9](?:[a-z0-9_-]{0,62})\Z")  # \Z: "$" lets a final newline through (an audit)
_ENV_REFERENCE = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")
# Validation context: also check what is outside the file (`nvr check-config`): file:// cameras' files exist.
CHECK_SOURCES = "check_sources"
DEMO_DIR_VARIABLE = "NVR_DEMO_DIR"
MIN_WEBHOOK_SECRET = 16
MIN_METRICS_KEY = 16


class ConfigError(Exception):
    """An unusable configuration; `problems` holds one `path: message` line per error."""

    def __init__(self, source: str, problems: list[str]) -> None:
        self.source = source
        self.problems = problems
        super().__init__(f"{source}: invalid configuration\n" + "\n".join(f"  {p}" for p in problems))


def known_zone(zone: str) -> str:
    """`zone` when it names an IANA time zone; a ValueError that says so otherwise (config validators)."""
    try:
        ZoneInfo(zone)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"unknown time zone {zone!r} (use an IANA name such as Asia/Ho_Chi_Minh)") from None
    return zone


TimeZoneName = Annotated[str, AfterValidator(known_zone)]


def _printable_path(path: Path) -> Path:
    if not str(path).isprintable():  # a NUL made resolving the path raise
        raise ValueError("must not hold control characters")
    return path


MAX_DAYS = 36_500  # a hundred years: retention beyond it is a typing error (1e12 days overflowed the catalog)


class _Section(BaseModel):
    # no setting is infinite or NaN: `retain_days: .inf` passed, then the station crashed at every start
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)


def one_line(text: str) -> str:
    """Text shown to people (Vietnamese diacritics welcome): one line of printable characters."""
    if not text.isprintable():
        raise ValueError("must be one line of printable text")
    return text.strip()


def readable(text: str) -> str:
    """Text people wrote, lines of it: printable characters (no NUL, which PostgreSQL refuses, nor other controls)."""
    if not all(line.isprintable() for line in text.replace("\t", " ").splitlines()):
        raise ValueError("must be printable text")
    return text


DISTRICT_STATION = "district"  # the district's own rows (its audit log) are scoped as a station's: no post's id


def _url_safe_name(name: str) -> str:
    if not CAMERA_NAME.match(name):
        raise ValueError(
            "must be 1-63 characters of lowercase letters, digits, '-' or '_', starting with a letter or digit"
        )
    return name


CameraName = Annotated[str, AfterValidator(_url_safe_name)]


def _http_url(url: str) -> str:
    """An absolute http:// or https:// URL with a host (webhooks, the station's own address)."""
    parts = urlsplit(url)
    if parts.scheme.lower() not in ("http", "https"):
        raise ValueError(f"unsupported scheme {parts.scheme!r}; use http or https" if parts.scheme else
                         "must be an absolute http:// or https:// URL")
    if not parts.hostname:
        raise ValueError("is missing the host name")
    try:
        port = parts.port
    except ValueError:  # beyond 65535, or not a number
        port = 0
    if port is not None and not 1 <= port <= 65535:
        raise ValueError("port must be 1-65535")
    return url


class StationConfig(_Section):
    """Which post this box is: `id` scopes every catalog row (a shared PostgreSQL holds several stations)."""

    id: str | None = None  # None: derived once from the host name and kept in data_dir/station-id
    title: str = Field("", max_length=200)  # shown to people, e.g. "Công an phường Bến Nghé"

    @field_validator("id")
    @classmethod
    def _url_safe_id(cls, station_id: str | None) -> str | None:
        if station_id == DISTRICT_STATION:
            raise ValueError(f"{DISTRICT_STATION!r} is the district's own id in a shared catalog (its audit rows are "
                             "kept under it): choose another")
        return None if station_id is None else _url_safe_name(station_id)

    @field_validator("title")
    @classmethod
    def _printable(cls, title: str) -> str:
        return one_line(title)


def _ip_network(text: str) -> str:
    try:
        return str(ipaddress.ip_network(text, strict=False))
    except ValueError:
        raise ValueError(f"{text!r} is not an IP address or network (e.g. 192.168.1.10 or 10.0.0.0/8)") from None


class ServerConfig(_Section):
    host: str = "127.0.0.1"
    port: int = Field(8080, ge=1, le=65535)
    public_docs: bool = False  # /docs, /redoc and /openapi.json for anybody (default: logged-in users only)
    # per account: a grid of all 64 cameras on two screens of a post fits; an account that offers more gets 429
    max_live_views_per_user: int = Field(128, ge=1, le=10_000)
    max_websockets_per_user: int = Field(16, ge=1, le=10_000)  # event streams (a browser tab holds one)
    live_connect_timeout_seconds: float = Field(30, gt=0, le=600)  # an answered offer not connected by then ends
    # reverse proxies whose X-Forwarded-For (the client's address) and X-Forwarded-Proto are believed
    trusted_proxies: list[Annotated[str, AfterValidator(_ip_network)]] = Field(default_factory=list)

    public_url: str | None = None  # how others reach the station: the links in MQTT and webhook messages

    @field_validator("public_url")
    @classmethod
    def _absolute(cls, url: str | None) -> str | None:
        return None if url is None else _http_url(url).rstrip("/")

    @property
    def base_url(self) -> str:
        """`public_url`, else this host and port (a wildcard address is named by the machine's host name)."""
        if self.public_url is not None:
            return self.public_url
        host = socket.gethostname() if self.host in ("", "0.0.0.0", "::") else self.host
        return f"http://{f'[{host}]' if ':' in host else host}:{self.port}"


class DatabaseConfig(_Section):
    url: str | None = None  # None: SQLite file `nvr.db` under data_dir

    @field_validator("url")
    @classmethod
    def _parseable(cls, url: str | None) -> str | None:
        if url is None:
            return None
        from sqlalchemy.exc import ArgumentError

        try:
            parsed = parse_database_url(url)
        except ArgumentError as exc:
            raise ValueError(f"not a database URL ({exc})") from None
        if parsed.get_backend_name() not in ("sqlite", "postgresql"):
            raise ValueError("only sqlite:/// and postgresql:// databases are supported")
        return url


class StorageConfig(_Section):
    segment_seconds: float = Field(60, ge=1, le=3600)
    retain_days: float = Field(30, gt=0, le=MAX_DAYS)
    events_days: float = Field(90, gt=0, le=MAX_DAYS)  # footage around detection events, and the events, kept this long
    max_bytes: int | None = Field(None, gt=0)
    min_free_bytes: int = Field(2_000_000_000, ge=0)
    reserve_bytes: int = Field(32_000_000, ge=0)  # released so the index can write on a full disk (0: none)
    retention_check_seconds: float = Field(30, gt=0, le=3600)


class IngestConfig(_Section):
    connect_timeout_seconds: float = Field(5, gt=0, le=120)
    read_timeout_seconds: float = Field(5, gt=0, le=120)
    stall_seconds: float = Field(10, gt=0, le=600)
    reconnect_min_seconds: float = Field(0.5, gt=0, le=60)
    reconnect_max_seconds: float = Field(3, gt=0, le=600)
    clock_tolerance_seconds: float = Field(2, gt=0, le=3600)  # a camera clock further off the station's is reported

    @model_validator(mode="after")
    def _backoff_order(self) -> IngestConfig:
        if self.reconnect_max_seconds < self.reconnect_min_seconds:
            raise ValueError("reconnect_max_seconds must be >= reconnect_min_seconds")
        return self


Polygon = list[tuple[float, float]]  # normalized (x, y) points: 0..1 across and down


class CameraDetectConfig(_Section):
    """How one camera is watched; see detect.settings.CameraDetectSettings for the meaning."""

    enabled: bool = True
    zones: list[Polygon] = Field(default_factory=list)
    masks: list[Polygon] = Field(default_factory=list)
    sensitivity: Literal["low", "medium", "high"] | float = "medium"
    min_object_size: float = 0.003
    overlay: Literal["auto", "off"] | list[Polygon] = "auto"
    max_fps: float | None = None
    keyframes_only: bool = False
    tamper: bool = True

    @model_validator(mode="after")
    def _consistent(self) -> CameraDetectConfig:
        self.settings()  # raises ValueError naming the setting
        return self

    def settings(self) -> CameraDetectSettings:
        overlay = self.overlay if isinstance(self.overlay, str) else tuple(tuple(p) for p in self.overlay)
        return CameraDetectSettings(zones=tuple(tuple(p) for p in self.zones),
                                    masks=tuple(tuple(p) for p in self.masks),
                                    sensitivity=self.sensitivity, min_object_size=self.min_object_size,
                                    overlay=overlay, max_fps=self.max_fps, keyframes_only=self.keyframes_only,
                                    tamper=self.tamper)


class DetectionConfig(_Section):
    """Station-wide detection and event settings."""

    pre_roll_seconds: float = Field(5, ge=0, le=60)  # an event's clip starts this long before it
    post_roll_seconds: float = Field(5, ge=0, le=60)  # ... and ends this long after
    motion_gap_seconds: float = Field(3, ge=0, le=300)  # quieter spells shorter than this join one event
    motion_max_seconds: float = Field(600, gt=0)  # longer motion is cut into events this long
    tamper_min_seconds: float = Field(1, ge=0, le=60)  # tamper must last this long to be an event
    video_loss_seconds: float = Field(5, gt=0, le=600)  # no frame for this long: video lost

    def policy(self) -> EventPolicy:
        return EventPolicy(motion_gap_seconds=self.motion_gap_seconds, motion_max_seconds=self.motion_max_seconds,
                           tamper_min_seconds=self.tamper_min_seconds, pre_roll_seconds=self.pre_roll_seconds,
                           post_roll_seconds=self.post_roll_seconds)

    def bank_settings(self) -> BankSettings:
        return BankSettings(video_loss_seconds=self.video_loss_seconds)


class CameraConfig(_Section):
    name: str  # the URL-safe id
    title: str = Field("", max_length=200)  # shown to people, e.g. "Hẻm 4, ngõ 2"
    location: str = Field("", max_length=200)  # where it is, e.g. "Trước nhà số 12, hướng ra chợ"
    area: str = Field("", max_length=100)  # the cameras of one area (e.g. "Hẻm 4") are played back together
    record_url: str
    detect_url: str | None = None
    enabled: bool = True
    transport: Transport = "auto"  # RTP over the RTSP connection (tcp), over UDP, or tcp then udp (auto)
    detect: CameraDetectConfig = CameraDetectConfig()

    @field_validator("name")
    @classmethod
    def _url_safe(cls, name: str) -> str:
        return _url_safe_name(name)

    @field_validator("title", "location", "area")
    @classmethod
    def _shown(cls, text: str) -> str:
        return one_line(text)

    @field_validator("record_url", "detect_url")
    @classmethod
    def _usable_url(cls, url: str | None, info: ValidationInfo) -> str | None:
        if url is not None and (problem := url_problem(url)):
            raise ValueError(problem)
        if url is not None and url.lower().startswith("file:") and (info.context or {}).get(CHECK_SOURCES):
            path = file_path(url)
            if not path.is_file():
                shown = redact_url(f"file://{path}").removeprefix("file://")  # a login typed into it stays hidden
                raise ValueError(f"file {shown!r} does not exist" if not path.exists() else f"{shown!r} is not a file")
        if url is not None and url.startswith("demo://"):
            scene = urlsplit(url).netloc
            if scene not in DEMO_SCENE_NAMES:
                shown = redact_url(f"demo://{scene}").removeprefix("demo://")  # a refusal repeats no password
                raise ValueError(f"unknown demo scene {shown!r}; known scenes: {', '.join(DEMO_SCENE_NAMES)}")
        return url

    def register_secrets(self) -> None:
        """Let every log line and error text of this process hide this camera's passwords (ingest.urls)."""
        for url in (self.record_url, self.detect_url):
            if url is not None:
                register_url_secrets(url)

    def recording_part(self) -> CameraConfig:
        """What a recorder reads of this camera: its streams, and whether and how often it decodes one for detection.
        A change of the rest alone (the names people see, what only the detector uses: zones, masks, sensitivity,
        object size, overlay, tamper) leaves the camera's recording and live view running."""
        detect = CameraDetectConfig(enabled=self.detect.enabled, max_fps=self.detect.max_fps,
                                    keyframes_only=self.detect.keyframes_only)
        return self.model_copy(update={"title": "", "location": "", "area": "", "detect": detect})

    @property
    def stream_urls(self) -> dict[str, str]:
        """Distinct streams to ingest, keyed by role (`record`, and `detect` when it differs)."""
        urls = {"record": self.record_url}
        if self.detect_url and self.detect_url != self.record_url:
            urls["detect"] = self.detect_url
        return urls

    @property
    def detect_role(self) -> str:
        """The stream decoded for detection: the sub stream when there is one, else the main stream."""
        return "detect" if "detect" in self.stream_urls else "record"


class MqttConfig(_Section):
    """The MQTT broker the station publishes to; without this section there is no MQTT."""

    host: str
    port: int | None = Field(None, ge=1, le=65535)  # None: 1883, or 8883 with tls
    username: str | None = None
    password: SecretStr | None = None  # never logged, never shown (repr: '**********')
    tls: bool = False  # the broker's certificate is checked against the system's authorities
    topic_prefix: str = "nvr"

    @field_validator("host")
    @classmethod
    def _host_name(cls, host: str) -> str:
        if not host or not host.isprintable() or any(c.isspace() or c in "/@" for c in host):
            raise ValueError("must be the broker's host name or address, e.g. 192.168.1.10 or broker.local")
        return host

    @field_validator("topic_prefix")
    @classmethod
    def _topic_levels(cls, prefix: str) -> str:
        levels = prefix.split("/")
        if not all(levels) or any(c in prefix for c in "+#") or not prefix.isprintable():
            raise ValueError("must be MQTT topic levels without wildcards or empty levels, e.g. nvr or "
                             "quan-1/ca-ben-nghe")
        return prefix

    @model_validator(mode="after")
    def _password_has_user(self) -> MqttConfig:
        if self.password is not None and self.username is None:
            raise ValueError("a password needs a username")
        return self

    @property
    def broker_port(self) -> int:
        return self.port or (8883 if self.tls else 1883)

    def register_secrets(self) -> None:
        """Let every log line and error text of this process hide the broker's password."""
        if self.password is not None:
            register_secret(self.password.get_secret_value())


class WebhookConfig(_Section):
    """One receiver of event changes, POSTed as JSON and signed with `secret` (HMAC-SHA256)."""

    url: str
    secret: SecretStr  # never logged, never shown
    cameras: list[CameraName] = Field(default_factory=list)  # only these cameras' events (empty: every camera)
    types: list[EventType] = Field(default_factory=list)  # only these event types (empty: every type)

    @field_validator("url")
    @classmethod
    def _absolute(cls, url: str) -> str:
        return _http_url(url)

    @field_validator("secret")
    @classmethod
    def _long_enough(cls, secret: SecretStr) -> SecretStr:
        if len(secret.get_secret_value()) < MIN_WEBHOOK_SECRET:
            raise ValueError(f"must be at least {MIN_WEBHOOK_SECRET} characters (a random key shared with the "
                             "receiver, e.g. from `openssl rand -hex 32`)")
        return secret

    def register_secrets(self) -> None:
        """Let every log line and error text of this process hide the secret and any password in the URL."""
        register_secret(self.secret.get_secret_value())
        register_url_secrets(self.url)
class MetricsConfig(_Section):
    """`GET /metrics` (Prometheus): an administrator's token, or this key sent as `Authorization: Bearer <key>`."""

    key: SecretStr | None = None  # None: administrators only

    @field_validator("key")
    @classmethod
    def _strong(cls, key: SecretStr | None) -> SecretStr | None:
        if key is None:
            return None
        text = key.get_secret_value()
        if len(text) < MIN_METRICS_KEY or not text.isprintable() or any(c.isspace() for c in text):
            raise ValueError(f"must be at least {MIN_METRICS_KEY} printable characters without spaces "
                             "(e.g. the output of `openssl rand -hex 24`)")
        return key


class AlertsConfig(_Section):
    """An alert event (`camera_offline`, `camera_tampered`) once a camera has been offline, or covered, turned
    away or defocused, for this long; fractions of a minute are allowed, null turns the alert off."""

    offline_minutes: float | None = Field(10, gt=0, le=10080)
    tamper_minutes: float | None = Field(5, gt=0, le=10080)

    def limits(self) -> dict[EventType, float]:
        """Alert type -> seconds a camera may be in that state before it is raised."""
        limits: dict[EventType, float | None] = {"camera_offline": self.offline_minutes,
                                                  "camera_tampered": self.tamper_minutes}
        return {kind: minutes * 60 for kind, minutes in limits.items() if minutes is not None}


class RuntimeConfig(_Section):
    recorder_processes: int | None = Field(None, ge=1, le=64)  # None: one per core
    # the station process (the API) runs this much nicer than the recorders: when the cores are short, recording
    # keeps camera pace (0: the same priority)
    station_nice: int = Field(5, ge=0, le=19)
    # ... and its detector process this much (at least station_nice): detection takes fewer frames when short
    detector_nice: int = Field(10, ge=0, le=19)

    @model_validator(mode="after")
    def _detection_yields(self) -> RuntimeConfig:
        if self.detector_nice < self.station_nice:
            raise ValueError("detector_nice must be >= station_nice: the station starts the detector, and a process "
                             "can only be made nicer")
        return self


class Config(_Section):
    data_dir: Annotated[Path, AfterValidator(_printable_path)] = Path("./data")
    timezone: TimeZoneName = "Asia/Ho_Chi_Minh"
    station: StationConfig = StationConfig()
    server: ServerConfig = ServerConfig()
    database: DatabaseConfig = DatabaseConfig()
    storage: StorageConfig = StorageConfig()
    ingest: IngestConfig = IngestConfig()
    detection: DetectionConfig = DetectionConfig()
    runtime: RuntimeConfig = RuntimeConfig()
    mqtt: MqttConfig | None = None
    webhooks: list[WebhookConfig] = Field(default_factory=list)
    metrics: MetricsConfig = MetricsConfig()
    alerts: AlertsConfig = AlertsConfig()
    cameras: list[CameraConfig] = Field(default_factory=list)


    @field_validator("cameras")
    @classmethod
    def _unique_names(cls, cameras: list[CameraConfig]) -> list[CameraConfig]:
        if duplicates := _duplicate_names([camera.name for camera in cameras]):
            raise ValueError(duplicates[0])
        return cameras

    def register_secrets(self) -> None:
        """Let every log line and error text of this process hide the passwords and keys of this file."""
        for camera in self.cameras:
            camera.register_secrets()
        for section in [self.mqtt, *self.webhooks]:
            if section is not None:
                section.register_secrets()

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @property
    def segments_dir(self) -> Path:
        return self.data_dir / "segments"

    @property
    def demo_dir(self) -> Path:
        """Where the demo cameras' rendered videos are kept: `$NVR_DEMO_DIR` if set (stations tried side by side on
        one machine, and the tests, render each scene once), else under data_dir."""
        shared = os.environ.get(DEMO_DIR_VARIABLE)
        return Path(shared) if shared else self.data_dir / "demo"

    @property
    def database_url(self) -> str:
        return self.database.url or f"sqlite:///{self.data_dir / 'nvr.db'}"

    @property
    def sqlite_file(self) -> Path | None:
        """The SQLite catalog's file; None for a PostgreSQL one."""
        parsed = parse_database_url(self.database_url)
        if parsed.get_backend_name() != "sqlite" or not parsed.database or parsed.database == ":memory:":
            return None
        return Path(parsed.database)

    def camera(self, name: str) -> CameraConfig | None:
        return next((c for c in self.cameras if c.name == name), None)



def _duplicate_names(names: list[Any]) -> list[str]:
    """One message per camera name used more than once."""
    seen: set[Any] = set()
    messages = []
    for name in names:
        message = f"camera name {name!r} is used more than once"
        if name in seen and message not in messages:
            messages.append(message)
        seen.add(name)
    return messages


def _raw_duplicate_names(raw: dict[Any, Any]) -> list[str]:
    """Duplicate names among the cameras as written, also when some of them are invalid (then the model's
    own check, which sees only a fully valid list, does not run)."""
    cameras = raw.get("cameras")
    if not isinstance(cameras, list):
        return []
    names = [c["name"] for c in cameras if isinstance(c, dict) and isinstance(c.get("name"), str)]
    return [f"cameras: {message}" for message in _duplicate_names(names)]


def _location(loc: tuple[int | str, ...]) -> str:
    path = ""
    for part in loc:
        path += f"[{part}]" if isinstance(part, int) else (f".{part}" if path else str(part))
    return path or "(top level)"


def _substitute_env(node: Any, loc: tuple[int | str, ...], env: dict[str, str], problems: list[str]) -> Any:
    """Replace `${NAME}` in string values by environment variables, so passwords stay out of the file."""
    if isinstance(node, dict):
        return {k: _substitute_env(v, (*loc, k), env, problems) for k, v in node.items()}
    if isinstance(node, list):
        return [_substitute_env(v, (*loc, i), env, problems) for i, v in enumerate(node)]
    if isinstance(node, str):

        def lookup(match: re.Match[str]) -> str:
            name = match.group(1)
            if name not in env:
                problems.append(f"{_location(loc)}: environment variable {name} is not set")
                return ""
            return env[name]

        return _ENV_REFERENCE.sub(lookup, node)
    return node


def parse_database_url(url: str) -> URL:
    """`url` parsed by SQLAlchemy, imported only here: every command loads a config, and SQLAlchemy's engine is a
    third of a second of imports that `nvr verify`, `check-config` and `analyze` do not need otherwise."""
    from sqlalchemy.engine import make_url

    return make_url(url)


def _resolve_paths(config: Config, base: Path) -> Config:
    """Relative data_dir and SQLite paths are relative to the config file's folder, not the shell's."""
    data_dir = config.data_dir if config.data_dir.is_absolute() else (base / config.data_dir)
    url = config.database.url
    if url is not None:
        parsed = parse_database_url(url)
        if parsed.get_backend_name() == "sqlite" and parsed.database and not Path(parsed.database).is_absolute():
            url = parsed.set(database=str(base / parsed.database)).render_as_string(hide_password=False)
    return config.model_copy(update={"data_dir": data_dir.resolve(), "database": DatabaseConfig(url=url)})


def parse_config(text: str, *, source: str = "config.yaml", base: Path | None = None,
                 env: dict[str, str] | None = None, check_sources: bool = False) -> Config:
    """Validate YAML text into a Config, or raise ConfigError naming every problem by its path;
    `check_sources`: also that file:// cameras' files exist, and that `data_dir` is no file."""
    raw, problems = read_settings(text, source, "data_dir, cameras, ...", env)
    try:
        config = Config.model_validate(raw, context={CHECK_SOURCES: check_sources})
    except ValidationError as exc:
        found = validation_problems(exc)
        problems += found + [p for p in _raw_duplicate_names(raw) if p not in found]
    if problems:
        raise ConfigError(source, problems)
    resolved = _resolve_paths(config, base or Path.cwd())
    if check_sources and (unusable := _data_dir_problems(resolved.data_dir)):
        raise ConfigError(source, unusable)
    config.register_secrets()
    for camera in config.cameras:
        camera.register_secrets()
    if config.metrics.key is not None:
        register_secret(config.metrics.key.get_secret_value())
    return resolved


class _UniqueKeyLoader(yaml.SafeLoader):
    """YAML keeping the last of two equal keys without a word: a second `cameras:` or `storage:` pasted below the
    first dropped every camera above it, or footage was kept 30 days instead of 60. Two equal keys in one mapping
    are an error naming its line; keys brought in by a merge (`<<: *defaults`) may still be overridden."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: set[Any] = set()
        for key_node, _value in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":
                continue
            key = self.construct_object(key_node, deep=deep)
            if not isinstance(key, Hashable):
                continue  # refused as a key by the loader's own mapping
            if key in seen:
                raise yaml.constructor.ConstructorError(None, None, f"{key!r} is given twice in one mapping",
                                                        key_node.start_mark)
            seen.add(key)
        mapping: dict[Any, Any] = super().construct_mapping(node, deep=deep)
        return mapping


def _data_dir_problems(data_dir: Path) -> list[str]:
    """Why the data folder cannot be used by the user asking: a file in its place, or no file can be made in it
    (or, when it is not there yet, in the folder that would hold it). A probe file is made and removed at once:
    permissions alone do not tell a read-only or virtual file system (/sys, /proc, a CD)."""
    if data_dir.exists() and not data_dir.is_dir():
        return [f"data_dir: {data_dir} is a file, not a folder"]
    holder = next(folder for folder in (data_dir, *data_dir.parents) if folder.exists())  # "/" at the latest
    if not holder.is_dir():
        return [f"data_dir: {data_dir} cannot be made: {holder} is a file, not a folder"]
    try:
        with tempfile.TemporaryFile(dir=holder, prefix=".nvr-write-probe-"):
            pass
    except OSError as exc:
        where = "" if holder == data_dir else f" (it would be made in {holder})"
        return [f"data_dir: {data_dir} is not writable by this user{where}: {exc.strerror or exc}"]
    return []


def read_settings(text: str, source: str, example: str, env: dict[str, str] | None = None
                  ) -> tuple[dict[str, Any], list[str]]:
    """The YAML mapping in `text` with `${NAME}` replaced from `env` (default: the environment), and the
    problems met doing so; ConfigError when it is not a YAML mapping (`example` names a few settings)."""
    try:
        raw = yaml.load(text, Loader=_UniqueKeyLoader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark else "YAML"
        reason = getattr(exc, "problem", None) or str(exc)
        raise ConfigError(source, [f"{where}: not valid YAML: {reason}"]) from None
    if raw is None:
        raw = {}
    if not isinstance(raw, dict):
        raise ConfigError(source, [f"(top level): must be a mapping of settings ({example})"])
    problems: list[str] = []
    return _substitute_env(raw, (), dict(os.environ) if env is None else env, problems), problems


def validation_problems(exc: ValidationError) -> list[str]:
    """One `path: message` line per problem, e.g. `record_url: unsupported scheme 'http'; ...`."""
    return [_describe(error) for error in exc.errors()]


def _describe(error: Any) -> str:
    message = str(error["msg"]).removeprefix("Value error, ")
    if error["type"] == "extra_forbidden":
        message = "unknown setting (check the spelling)"
    return f"{_location(tuple(error['loc']))}: {message}"


def load_config(path: Path, *, check_sources: bool = False) -> Config:
    """Read and validate a config file (`check_sources`: see parse_config)."""
    return parse_config(config_text(path), source=str(path), base=path.resolve().parent, check_sources=check_sources)


def config_text(path: Path) -> str:
    """A configuration file's text, or ConfigError saying why it cannot be read (a file saved by an editor as
    "Unicode" (UTF-16) or in a legacy code page is not UTF-8)."""
    try:
        return path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(str(path), [f"cannot read the file: {exc.strerror or exc}"]) from None
    except UnicodeDecodeError as exc:
        byte = exc.object[exc.start:exc.start + 1].hex()
        problem = f"not UTF-8 text (byte 0x{byte} at offset {exc.start}): save the file as UTF-8"
        raise ConfigError(str(path), [problem]) from None
