"""A throwaway mosquitto broker on 127.0.0.1 for tests (Debian's), with a user and password and persistence:
`stop()` then `start()` is a broker restart that keeps its retained messages and sessions, `kill()` then
`start()` one that lost them. `MqttWatcher` records what a subscriber receives."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Self

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

from .rtsp import HOST, free_port

MOSQUITTO = "/usr/sbin/mosquitto"
MOSQUITTO_PASSWD = "/usr/bin/mosquitto_passwd"
BROKER_USER = "mosquitto"  # the system user the broker runs as when started by root
USER, PASSWORD = "nvr-station", "broker-pass-4711"


class Mosquitto:
    def __init__(self) -> None:
        self.port = free_port()
        self._dir = Path(tempfile.mkdtemp(prefix="nvr-mosquitto-"))
        self._proc: subprocess.Popen[bytes] | None = None
        passwords = self._dir / "passwords"
        subprocess.run([MOSQUITTO_PASSWD, "-b", "-c", str(passwords), USER, PASSWORD], check=True,
                       capture_output=True)
        (self._dir / "mosquitto.conf").write_text(
            f"listener {self.port} {HOST}\n"
            f"allow_anonymous false\npassword_file {passwords}\n"
            f"persistence true\npersistence_location {self._dir}/\nautosave_interval 3600\n"
            f"log_dest file {self._dir / 'mosquitto.log'}\nlog_type all\n")
        if os.geteuid() == 0:  # the broker drops to its own user: it must read and write its folder
            for path in (self._dir, *self._dir.iterdir()):
                shutil.chown(path, BROKER_USER, BROKER_USER)

    def start(self, timeout: float = 10.0) -> None:
        """Start on the same port as before and wait until it accepts connections."""
        assert self._proc is None, "already running"
        self._proc = subprocess.Popen([MOSQUITTO, "-c", str(self._dir / "mosquitto.conf")],
                                      stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        deadline = time.monotonic() + timeout
        while True:
            try:
                socket.create_connection((HOST, self.port), timeout=0.5).close()
                return
            except OSError:
                if self._proc.poll() is not None or time.monotonic() > deadline:
                    error = self._proc.stderr.read().decode(errors="replace") if self._proc.stderr else ""
                    self._proc = None
                    raise RuntimeError(f"mosquitto on port {self.port} did not start: {error}\n{self.log()}") from None
                time.sleep(0.05)

    def stop(self) -> None:
        """SIGTERM: the broker saves its retained messages and sessions before it ends."""
        self._end(signal.SIGTERM)

    def kill(self) -> None:
        """SIGKILL, and its saved state deleted: it comes back knowing nothing."""
        self._end(signal.SIGKILL)
        (self._dir / "mosquitto.db").unlink(missing_ok=True)

    def _end(self, how: signal.Signals) -> None:
        if self._proc is not None:
            self._proc.send_signal(how)
            self._proc.wait(10)
            self._proc = None

    def log(self) -> str:
        try:
            return (self._dir / "mosquitto.log").read_text(errors="replace")[-4000:]
        except OSError:
            return ""

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()
        shutil.rmtree(self._dir, ignore_errors=True)


@dataclass(frozen=True)
class Received:
    topic: str
    payload: bytes
    retain: bool


class MqttWatcher:
    """A subscriber that records every message it receives. `session`: a persistent session under that client
    id, which the broker keeps (with the QoS 1 messages it missed) while the watcher is away."""

    def __init__(self, broker: Mosquitto, topics: tuple[str, ...] = ("#",), session: str | None = None) -> None:
        self._topics = topics
        self._lock = threading.Lock()
        self._received: list[Received] = []
        self.subscribed = threading.Event()
        self._client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=session or f"watcher-{uuid.uuid4().hex}",
                                   clean_session=session is None)
        self._client.username_pw_set(USER, PASSWORD)
        self._client.reconnect_delay_set(1, 1)
        self._client.on_connect = lambda client, *_: client.subscribe([(topic, 1) for topic in self._topics])
        self._client.on_subscribe = lambda *_: self.subscribed.set()
        self._client.on_message = self._on_message
        self._client.connect_async(HOST, broker.port, keepalive=10)
        self._client.loop_start()

    def _on_message(self, _client: mqtt.Client, _userdata: object, message: mqtt.MQTTMessage) -> None:
        with self._lock:
            self._received.append(Received(message.topic, bytes(message.payload), bool(message.retain)))

    def messages(self, topic: str | None = None) -> list[Received]:
        with self._lock:
            return [m for m in self._received if topic is None or m.topic == topic]

    def payloads(self, topic: str) -> list[bytes]:
        return [m.payload for m in self.messages(topic)]

    def publish(self, topic: str, payload: bytes) -> None:
        self._client.publish(topic, payload, qos=1)

    def close(self) -> None:
        self._client.disconnect()
        self._client.loop_stop()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def retained(broker: Mosquitto, topic_filter: str, timeout: float = 10.0) -> dict[str, bytes]:
    """The retained messages on `topic_filter` now, read by a fresh subscriber: a marker it publishes once
    subscribed comes back after them, so when it is in, they all are."""
    marker = f"test-marker/{uuid.uuid4().hex}"
    with MqttWatcher(broker, (topic_filter, marker)) as watcher:
        deadline = time.monotonic() + timeout
        if not watcher.subscribed.wait(timeout):
            raise AssertionError(f"could not subscribe to {topic_filter} on the broker")
        watcher.publish(marker, b"end")
        while not watcher.messages(marker):
            if time.monotonic() > deadline:
                raise AssertionError("the marker never came back from the broker")
            time.sleep(0.02)
        return {m.topic: m.payload for m in watcher.messages() if m.retain and m.topic != marker}
