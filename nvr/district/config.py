"""district.yaml: the shared catalog, the broker the posts publish to, and each post's box."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, SecretStr, ValidationError, field_validator, model_validator

from ingest.urls import register_secret
from nvr.config import (
    ConfigError,
    DatabaseConfig,
    MqttConfig,
    ServerConfig,
    StationConfig,
    TimeZoneName,
    _Section,
    config_text,
    read_settings,
    validation_problems,
)


class StationLink(_Section):
    """A post's box: its station id (as in its `station.id`), where its API answers, the machine key the
    district uses there (`nvr user key` on that box), and the MQTT topic prefix it publishes under."""

    id: str
    url: str
    api_key: SecretStr
    title: str = Field("", max_length=200)
    topic_prefix: str | None = None  # None: nvr/<id> (set the post's mqtt.topic_prefix to the same)
    tls_verify: bool = True  # False: a post's self-signed certificate is accepted

    @field_validator("id")
    @classmethod
    def _station_id(cls, station_id: str) -> str:
        return StationConfig(id=station_id).id or station_id

    @field_validator("url")
    @classmethod
    def _http(cls, url: str) -> str:
        if not url.startswith(("http://", "https://")):
            raise ValueError("must be the box's address, e.g. https://10.1.2.3:8080")
        return url.rstrip("/")

    @property
    def prefix(self) -> str:
        return self.topic_prefix or f"nvr/{self.id}"


class DistrictConfig(_Section):
    data_dir: Path = Path("./district-data")
    timezone: TimeZoneName = "Asia/Ho_Chi_Minh"
    server: ServerConfig = ServerConfig()
    database: DatabaseConfig
    mqtt: MqttConfig | None = None
    stations: list[StationLink] = Field(min_length=1)

    @model_validator(mode="after")
    def _distinct(self) -> DistrictConfig:
        ids = [station.id for station in self.stations]
        if len(set(ids)) != len(ids):
            raise ValueError("stations: a station id is listed more than once")
        if self.database.url is None:
            raise ValueError("database.url: the district's shared catalog (postgresql://...) is required")
        return self

    def register_secrets(self) -> None:
        for station in self.stations:
            register_secret(station.api_key.get_secret_value())
        if self.mqtt is not None:
            self.mqtt.register_secrets()


def load_district_config(path: Path) -> DistrictConfig:
    raw, problems = read_settings(config_text(path), str(path), "database, stations, ...")
    try:
        config = DistrictConfig.model_validate(raw)
    except ValidationError as exc:
        raise ConfigError(str(path), problems + validation_problems(exc)) from None
    if problems:
        raise ConfigError(str(path), problems)
    config.register_secrets()
    data_dir = config.data_dir if config.data_dir.is_absolute() else path.resolve().parent / config.data_dir
    return config.model_copy(update={"data_dir": data_dir})
