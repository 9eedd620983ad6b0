"""What the station says on MQTT, topic by topic: each camera's status (with the reason it is offline),
motion and tamper as retained states, every event change on `<prefix>/events`, and the Home Assistant
discovery of each camera's sensors. A camera that goes loses its retained topics."""

from __future__ import annotations

import threading

from nvr.integrations.camera_watch import CameraState
from nvr.integrations.home_assistant import SENSORS, discovery_configs, discovery_topic
from nvr.integrations.mqtt import OFFLINE, ONLINE, MqttPublisher
from storage.events import Event

SENSOR_OF_TYPE = {"motion": "motion", "tamper_covered": "tamper", "tamper_moved": "tamper", "tamper_defocus": "tamper"}


class StationTopics:
    def __init__(self, publisher: MqttPublisher, prefix: str, station: str) -> None:
        self._publisher = publisher
        self._prefix = prefix
        self._station = station
        self._lock = threading.Lock()  # the camera watch and the event writer call in from their threads
        self._titles: dict[str, str] = {}  # the cameras that have topics, and the title their device shows
        self._going_on: dict[tuple[str, str], set[int]] = {}  # (camera, motion or tamper) -> its open events

    @property
    def events_topic(self) -> str:
        return f"{self._prefix}/events"

    def camera_topic(self, camera: str, what: str) -> str:
        return f"{self._prefix}/{camera}/{what}"

    def camera_changed(self, camera: str, state: CameraState | None) -> None:
        with self._lock:
            if state is None:
                self._forget(camera)
                return
            title = self._titles.get(camera)
            self._titles[camera] = state.title
            if title != state.title:
                for topic, config in discovery_configs(self._prefix, self._station, camera, state.title).items():
                    self._publish(topic, config)
            if title is None:  # new here: nothing going on yet
                for sensor in ("motion", "tamper"):
                    self._publish(self.camera_topic(camera, sensor), "OFF")
            self._publish(self.camera_topic(camera, "status"), ONLINE if state.online else OFFLINE)
            self._publish(self.camera_topic(camera, "status/reason"), state.reason)  # empty: deleted while online

    def event_changed(self, event: Event, message: bytes) -> None:
        self._publisher.publish(self.events_topic, message)
        sensor = SENSOR_OF_TYPE.get(event.type)
        with self._lock:
            if sensor is None or event.camera not in self._titles:  # a camera gone keeps no retained topics
                return
            going_on = self._going_on.setdefault((event.camera, sensor), set())
            before = bool(going_on)
            (going_on.add if event.end_ms is None else going_on.discard)(event.id)
            if bool(going_on) != before:  # not again for each update of an event going on
                self._publish(self.camera_topic(event.camera, sensor), "ON" if going_on else "OFF")

    def _forget(self, camera: str) -> None:
        """Delete the camera's retained messages (empty payloads); Home Assistant removes its device."""
        self._titles.pop(camera, None)
        for sensor in ("motion", "tamper"):
            self._going_on.pop((camera, sensor), None)
        topics = [self.camera_topic(camera, what) for what in ("status", "status/reason", "motion", "tamper")]
        for topic in topics + [discovery_topic(self._station, camera, kind) for kind, *_ in SENSORS]:
            self._publish(topic, "")

    def _publish(self, topic: str, payload: str) -> None:
        self._publisher.publish(topic, payload, retain=True)
