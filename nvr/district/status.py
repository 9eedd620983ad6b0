"""The posts' live status as they publish it on MQTT (nvr/integrations/mqtt_topics.py): each post's
`<prefix>/available` and each camera's `<prefix>/<camera>/status`, retained, so a district server started
now learns the current state at once. paho's own thread receives; readers take a copy under a lock."""

from __future__ import annotations

import logging
import threading
import uuid
from typing import Any

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion, MQTTProtocolVersion

from nvr.config import CAMERA_NAME, MqttConfig
from nvr.integrations.mqtt import OFFLINE, ONLINE

log = logging.getLogger(__name__)
KEEPALIVE_SECONDS = 15
STATES = frozenset({ONLINE, OFFLINE})  # a camera's status as a post publishes it
MAX_CAMERAS = 20_000  # a district has about 1,150


class StatusBoard:
    def __init__(self, config: MqttConfig, prefixes: dict[str, str]) -> None:
        """`prefixes`: station id -> its topic prefix."""
        self._config = config
        # longest first: a prefix may lie inside another's topics (nvr and nvr/a)
        self._station_of = {prefix: station for station, prefix in
                            sorted(prefixes.items(), key=lambda item: -len(item[1]))}
        self._lock = threading.Lock()
        self._available: dict[str, str] = {}  # station -> online | offline
        self._cameras: dict[tuple[str, str], str] = {}  # (station, camera) -> online | offline
        self._client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=f"nvr-district-{uuid.uuid4().hex[:8]}",
                                   protocol=MQTTProtocolVersion.MQTTv311)
        if config.username is not None:
            password = config.password.get_secret_value() if config.password is not None else None
            self._client.username_pw_set(config.username, password)
        if config.tls:
            self._client.tls_set()
        self._client.reconnect_delay_set(1, 10)
        self._client.on_connect = self._on_connect
        self._client.on_message = self._on_message

    def start(self) -> None:
        self._client.connect_async(self._config.host, self._config.broker_port, KEEPALIVE_SECONDS)
        self._client.loop_start()

    def stop(self) -> None:
        self._client.disconnect()
        self._client.loop_stop()

    def available(self, station: str) -> str | None:
        with self._lock:
            return self._available.get(station)

    def camera(self, station: str, camera: str) -> str | None:
        with self._lock:
            return self._cameras.get((station, camera))

    def _on_connect(self, client: mqtt.Client, _userdata: Any, _flags: Any, reason: Any, _properties: Any) -> None:
        if reason.is_failure:
            log.warning("MQTT: the broker refused the connection: %s", reason)
            return
        client.subscribe([(f"{prefix}/available", 1) for prefix in self._station_of] +
                         [(f"{prefix}/+/status", 1) for prefix in self._station_of])

    def _on_message(self, _client: mqtt.Client, _userdata: Any, message: mqtt.MQTTMessage) -> None:
        payload = message.payload.decode(errors="replace")
        for prefix, station in self._station_of.items():
            if not message.topic.startswith(prefix + "/"):
                continue
            what = message.topic[len(prefix) + 1:]
            with self._lock:
                if what == "available":
                    self._available[station] = payload
                elif what.endswith("/status") and what.count("/") == 1:
                    camera = what.removesuffix("/status")
                    if not payload:  # the camera was removed: its retained status deleted
                        self._cameras.pop((station, camera), None)
                    elif (payload in STATES and CAMERA_NAME.match(camera)
                          and ((station, camera) in self._cameras or len(self._cameras) < MAX_CAMERAS)):
                        # what a post publishes; anything else on the broker under its prefix (a name per message)
                        # grew this without end
                        self._cameras[(station, camera)] = payload
            return
