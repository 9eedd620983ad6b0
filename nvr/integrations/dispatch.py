"""The station's integrations put together from the configuration: every stored event change goes to MQTT
and the webhooks, every camera's presence and status to MQTT. Nothing here waits for the network."""

from __future__ import annotations

import secrets
from typing import Protocol

from nvr.config import Config
from nvr.integrations.camera_watch import CameraWatch, StationCameras
from nvr.integrations.event_json import event_message
from nvr.integrations.mqtt import MqttPublisher
from nvr.integrations.mqtt_topics import StationTopics
from nvr.integrations.webhooks import Webhooks
from storage.events import Event


class Part(Protocol):
    def start(self) -> None: ...

    def stop(self) -> None: ...


class Integrations:
    def __init__(self, config: Config, station: str, cameras: StationCameras) -> None:
        config.register_secrets()  # this process logs: the broker's password and webhook secrets stay out
        self._zone = config.zone
        self._station = station
        self._base_url = config.server.base_url
        self.mqtt: MqttPublisher | None = None
        self._topics: StationTopics | None = None
        # started, and stopped, in this order: the camera watch fills the publisher's outbox before it
        # connects, and is stopped before the publisher says its last words
        self._parts: list[Part] = []
        if config.mqtt is not None:
            # a client id of its own at each start: a new station process never takes over the session (and
            # with it the last will) of one that was killed
            self.mqtt = MqttPublisher(config.mqtt, f"station-nvr-{station}-{secrets.token_hex(3)}")
            self._topics = StationTopics(self.mqtt, config.mqtt.topic_prefix, station)
            self._parts += [CameraWatch(cameras, self._topics.camera_changed), self.mqtt]
        self.webhooks = Webhooks(config.webhooks) if config.webhooks else None
        if self.webhooks is not None:
            self._parts.append(self.webhooks)

    def start(self) -> None:
        for part in self._parts:
            part.start()

    def stop(self) -> None:
        for part in self._parts:
            part.stop()

    def event_changed(self, event: Event) -> None:
        """Called by the event writer's thread for each stored change; queues and returns."""
        if self._topics is None and self.webhooks is None:
            return
        message = event_message(event, self._zone, self._station, self._base_url)
        if self._topics is not None:
            self._topics.event_changed(event, message)
        if self.webhooks is not None:
            self.webhooks.event_changed(event, message)
