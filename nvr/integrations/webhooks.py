"""Webhooks: every event change that a receiver's filter lets through is POSTed to it as the event JSON,
signed, from a thread of that receiver's own (a slow or dead receiver delays nothing else), in order, each
delivery tried a bounded number of times with exponential backoff.

Signature: `X-NVR-Signature: sha256=<hex HMAC-SHA256(secret, "<X-NVR-Timestamp>.<body>")>`; the timestamp
(Unix seconds of the attempt) is signed with the body, so a captured request cannot be replayed later
under a fresh timestamp. `X-NVR-Delivery` is the same for every attempt of one delivery."""

from __future__ import annotations

import hashlib
import hmac
import logging
import threading
import time
import uuid
from dataclasses import dataclass
from urllib.parse import urlsplit

import httpx

from nvr.config import WebhookConfig
from nvr.integrations.http_deadline import Deadline, deadline_client
from nvr.integrations.outbox import Outbox
from storage.events import Event

log = logging.getLogger(__name__)
SIGNATURE_HEADER = "X-NVR-Signature"
TIMESTAMP_HEADER = "X-NVR-Timestamp"
DELIVERY_HEADER = "X-NVR-Delivery"
OUTBOX_LIMIT = 1_000  # deliveries waiting for one receiver
ATTEMPTS = 5  # per delivery: the first try and retries after 1, 2, 4, 8 s
FIRST_RETRY_SECONDS = 1.0
REQUEST_SECONDS = 10.0  # a whole attempt, however slowly the receiver answers (nvr/integrations/http_deadline.py)
TIMEOUT = httpx.Timeout(REQUEST_SECONDS, connect=5.0)
STOP_SECONDS = 3.0  # at a stop, how long what waits may still be sent (once each)
WAIT_SECONDS = 0.25
RETRIED_STATUS = frozenset({408, 425, 429})  # and every 5xx; other answers are final


def where(url: str) -> str:
    """A receiver's URL as logs name it: scheme, host and port. Its path and query are often its secret (Slack's
    path, `sig=`, `key=`, `access_token=`), and were logged in clear."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc.rpartition('@')[2]}"


def signature(secret: str, timestamp: str, body: bytes) -> str:
    digest = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()
    return f"sha256={digest}"


@dataclass(frozen=True)
class Delivery:
    id: str
    body: bytes


class WebhookTarget:
    """One receiver: its filter, its outbox and its sender thread."""

    def __init__(self, config: WebhookConfig) -> None:
        self._config = config
        self._cameras = frozenset(config.cameras)
        self._types = frozenset(config.types)
        self.name = where(config.url)
        self._outbox: Outbox[Delivery] = Outbox(OUTBOX_LIMIT, f"webhook {self.name}")
        self._stopping = threading.Event()
        self._stop_by = float("inf")
        self._thread = threading.Thread(target=self._run, name="webhook", daemon=True)
        self._deadline = Deadline()
        self.given_up = 0  # deliveries that failed ATTEMPTS times (or were refused)
        self._failed_at_stop = 0

    @property
    def dropped(self) -> int:
        """Deliveries dropped because the outbox was full (the receiver away too long)."""
        return self._outbox.dropped

    def wants(self, event: Event) -> bool:
        return (not self._cameras or event.camera in self._cameras) and (not self._types or event.type in self._types)

    def offer(self, body: bytes) -> None:
        """Queue a delivery; never waits."""
        self._outbox.put(Delivery(uuid.uuid4().hex, body))

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        """From now on what waits is sent once each, without retries, for up to STOP_SECONDS (see `join`)."""
        self._stop_by = time.monotonic() + STOP_SECONDS
        self._stopping.set()

    def join(self) -> None:
        self._thread.join(STOP_SECONDS + REQUEST_SECONDS + 1)

    def _run(self) -> None:
        with deadline_client(self._deadline, timeout=TIMEOUT, headers={"User-Agent": "station-nvr"}) as client:
            while not (self._stopping.is_set() and time.monotonic() > self._stop_by):
                delivery = self._outbox.get(0 if self._stopping.is_set() else WAIT_SECONDS)
                if delivery is not None:
                    self._deliver(client, delivery)
                elif self._stopping.is_set():
                    break
        if unsent := len(self._outbox) + self._failed_at_stop:
            log.warning("webhook %s: %d deliveries not sent at the stop", self.name, unsent)

    def _deliver(self, client: httpx.Client, delivery: Delivery) -> None:
        delay = FIRST_RETRY_SECONDS
        for attempt in range(1, ATTEMPTS + 1):
            failure, final = self._post(client, delivery)
            if failure is None:
                return
            if final or attempt == ATTEMPTS or self._stopping.wait(delay):
                break
            delay *= 2
        self.given_up += 1
        if self._stopping.is_set():  # counted, and logged once for all at the end (_run)
            self._failed_at_stop += 1
        else:
            log.warning("webhook %s: delivery %s given up after %d attempts: %s", self.name, delivery.id, attempt,
                        failure)

    def _post(self, client: httpx.Client, delivery: Delivery) -> tuple[str | None, bool]:
        """(why it failed or None, whether trying again is pointless)."""
        timestamp = str(int(time.time()))
        headers = {"Content-Type": "application/json", TIMESTAMP_HEADER: timestamp, DELIVERY_HEADER: delivery.id,
                   SIGNATURE_HEADER: signature(self._config.secret.get_secret_value(), timestamp, delivery.body)}
        self._deadline.start(REQUEST_SECONDS)
        try:
            # only the status counts: the answer's body is left unread (an endless or gzip-bombed one was read whole
            # into the station's memory: 1.8 GB in 4 s)
            with client.stream("POST", self._config.url, content=delivery.body, headers=headers) as answer:
                status = answer.status_code
        except httpx.HTTPError as exc:
            return type(exc).__name__, False  # its text may quote the URL, whose path or query may be a secret
        if httpx.codes.is_success(status):
            return None, False
        return f"HTTP {status}", not (status >= 500 or status in RETRIED_STATUS)


class Webhooks:
    def __init__(self, configs: list[WebhookConfig]) -> None:
        self.targets = [WebhookTarget(config) for config in configs]

    def start(self) -> None:
        for target in self.targets:
            target.start()

    def stop(self) -> None:
        for target in self.targets:
            target.stop()
        for target in self.targets:  # together: STOP_SECONDS in all, not for each receiver
            target.join()

    def event_changed(self, event: Event, message: bytes) -> None:
        for target in self.targets:
            if target.wants(event):
                target.offer(message)
