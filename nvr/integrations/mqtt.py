"""The station's connection to its MQTT broker. `publish` never waits for the network: messages go into a
bounded outbox that a thread of its own hands to paho while the broker is connected; paho's own thread does
the network, keeps `<prefix>/available` as the connection's last will and reconnects with backoff. Retained
states are remembered and sent again on every new connection (a restarted broker may have lost them); a
state that changed several times while it waited is sent once, with its latest payload."""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from dataclasses import dataclass
from typing import Any

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion, MQTTErrorCode, MQTTProtocolVersion
from paho.mqtt.reasoncodes import ReasonCode

from nvr.config import MqttConfig
from nvr.integrations.outbox import Outbox

log = logging.getLogger(__name__)
OUTBOX_LIMIT = 10_000  # messages held while the broker is away (event JSON is about 500 bytes)
PAHO_LIMIT = 100  # messages handed to paho and not yet acknowledged; the rest wait in the outbox
KEEPALIVE_SECONDS = 15  # a broker that vanished without closing the connection is noticed within ~1.5x this
RECONNECT_MIN_SECONDS = 1  # doubling to ...
RECONNECT_MAX_SECONDS = 10  # ... this: a returning broker hears from the station within 10 s
WAIT_SECONDS = 0.25  # how often the sender looks up from an empty outbox
STOP_SECONDS = 2.0  # at a stop, how long what waits may still be sent
ONLINE, OFFLINE = "online", "offline"


@dataclass(frozen=True)
class Message:
    topic: str
    payload: bytes
    retain: bool


class MqttPublisher:
    def __init__(self, config: MqttConfig, client_id: str) -> None:
        self._config = config
        self.available_topic = f"{config.topic_prefix}/available"
        self._outbox: Outbox[Message] = Outbox(OUTBOX_LIMIT, f"MQTT {config.host}")
        self._retained: dict[str, bytes] = {}  # topic -> its latest retained payload
        self._unsent: set[str] = set()  # retained topics whose latest payload the broker has not been given
        self._lock = threading.Lock()
        self._first: deque[Message] = deque()  # sent before the outbox (sender thread only)
        self._connected = threading.Event()
        self._resync = threading.Event()  # a new connection: every retained state goes out again
        self._stopping = threading.Event()
        self._client = self._make_client(client_id)
        self._thread = threading.Thread(target=self._run, name="mqtt-publisher", daemon=True)

    def _make_client(self, client_id: str) -> mqtt.Client:
        config = self._config
        client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=client_id, protocol=MQTTProtocolVersion.MQTTv311)
        if config.username is not None:
            password = config.password.get_secret_value() if config.password is not None else None
            client.username_pw_set(config.username, password)
        if config.tls:
            client.tls_set()  # the system's certificate authorities; the host name is checked
        client.will_set(self.available_topic, OFFLINE, qos=1, retain=True)
        client.reconnect_delay_set(RECONNECT_MIN_SECONDS, RECONNECT_MAX_SECONDS)
        client.max_queued_messages_set(PAHO_LIMIT)
        client.on_connect = self._on_connect
        client.on_disconnect = self._on_disconnect
        return client

    @property
    def connected(self) -> bool:
        return self._connected.is_set()

    @property
    def dropped(self) -> int:
        """Messages dropped because the outbox was full (the broker away too long)."""
        return self._outbox.dropped

    def publish(self, topic: str, payload: str | bytes, *, retain: bool = False) -> None:
        """Queue a message; never waits. A retained one is also remembered and sent again on each connection
        (an empty retained payload deletes the topic's retained message)."""
        data = payload.encode() if isinstance(payload, str) else payload
        if retain:
            with self._lock:
                self._retained[topic] = data
                self._unsent.add(topic)
        self._outbox.put(Message(topic, data, retain))

    def start(self) -> None:
        self.publish(self.available_topic, ONLINE, retain=True)
        self._client.connect_async(self._config.host, self._config.broker_port, KEEPALIVE_SECONDS)
        self._client.loop_start()  # paho's thread: connects, reconnects, reads and writes the socket
        self._thread.start()

    def stop(self) -> None:
        """Send what waits (for up to STOP_SECONDS, while connected), say `offline`, disconnect."""
        self.publish(self.available_topic, OFFLINE, retain=True)
        self._stopping.set()
        self._thread.join(STOP_SECONDS + 1)
        self._client.disconnect()
        self._client.loop_stop()

    # ------------------------------------------------------------------ paho's thread

    def _on_connect(self, _client: mqtt.Client, _userdata: Any, _flags: mqtt.ConnectFlags, reason: ReasonCode,
                    _properties: Any) -> None:
        if reason.is_failure:
            log.error("MQTT broker %s:%d refused the connection: %s", self._config.host, self._config.broker_port,
                      reason)
            return
        log.info("MQTT: connected to %s:%d", self._config.host, self._config.broker_port)
        self._resync.set()
        self._connected.set()

    def _on_disconnect(self, _client: mqtt.Client, _userdata: Any, _flags: mqtt.DisconnectFlags, reason: ReasonCode,
                       _properties: Any) -> None:
        if self._connected.is_set() and not self._stopping.is_set():
            log.warning("MQTT: lost the broker %s:%d (%s); messages wait and it is tried again",
                        self._config.host, self._config.broker_port, reason)
        self._connected.clear()

    # ------------------------------------------------------------------ the sender thread

    def _run(self) -> None:
        last: mqtt.MQTTMessageInfo | None = None
        stop_by: float | None = None
        while True:
            if self._stopping.is_set():
                stop_by = stop_by or time.monotonic() + STOP_SECONDS
                if self._done(stop_by):
                    break
            if not self._connected.wait(WAIT_SECONDS):
                continue
            if self._resync.is_set():
                self._resync.clear()
                self._resend_retained()
            message = self._latest(self._first.popleft() if self._first else self._outbox.get(WAIT_SECONDS))
            if message is None:
                continue
            info = self._client.publish(message.topic, message.payload, qos=1, retain=message.retain)
            if info.rc == MQTTErrorCode.MQTT_ERR_QUEUE_SIZE:  # paho holds PAHO_LIMIT already: try again soon
                if message.retain:
                    with self._lock:
                        self._unsent.add(message.topic)
                self._first.appendleft(message)
                self._stopping.wait(WAIT_SECONDS)
            else:  # queued by paho, which sends it (again after a reconnect) until the broker acknowledges it
                last = info
        if last is not None and last.rc == MQTTErrorCode.MQTT_ERR_SUCCESS and stop_by is not None:
            last.wait_for_publish(max(0.0, stop_by - time.monotonic()))  # the last words reach the broker

    def _done(self, deadline: float) -> bool:
        """Stopping: nothing left to send, or no broker to send it to, or no time left."""
        return not self._connected.is_set() or not (self._first or len(self._outbox)) or time.monotonic() > deadline

    def _latest(self, message: Message | None) -> Message | None:
        """A retained state goes out with its latest payload, once: None if that was sent already."""
        if message is None or not message.retain:
            return message
        with self._lock:
            if message.topic not in self._unsent:
                return None
            self._unsent.discard(message.topic)
            return Message(message.topic, self._retained[message.topic], True)

    def _resend_retained(self) -> None:
        with self._lock:
            self._unsent = set(self._retained)
            states = [Message(topic, payload, True) for topic, payload in self._retained.items()]
        self._first = deque([*states, *(m for m in self._first if not m.retain)])
