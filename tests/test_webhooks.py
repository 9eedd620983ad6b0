"""Webhooks against a real local HTTP receiver: a real motion event is POSTed signed, retried after a 500 and
filtered by camera and type; failures are retried with growing delays a bounded number of times; a slow
receiver delays nothing else."""

from __future__ import annotations

import hashlib
import hmac
import itertools
import json
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from nvr.config import WebhookConfig
from nvr.integrations import webhooks as webhooks_module
from nvr.integrations.event_json import event_message
from nvr.integrations.webhooks import ATTEMPTS, Webhooks
from storage.events import Event
from tests.conftest import station_config, wait_for
from tests.support.rtsp import RtspServer

SECRET = "a-webhook-secret-of-32-characters"


@dataclass(frozen=True)
class Request:
    path: str
    headers: dict[str, str]
    body: bytes
    at: float  # monotonic


class Receiver:
    """A local HTTP server that records every POST. `answers[path]`: the statuses it gives in turn (200 after
    them); `slow[path]`: seconds it takes to answer there."""

    def __init__(self) -> None:
        self.answers: dict[str, list[int]] = {}
        self.slow: dict[str, float] = {}
        self._lock = threading.Lock()
        self._requests: list[Request] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                with receiver._lock:
                    receiver._requests.append(Request(self.path, dict(self.headers), body, time.monotonic()))
                    scripted = receiver.answers.get(self.path)
                    status = scripted.pop(0) if scripted else 200
                time.sleep(receiver.slow.get(self.path, 0))
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self._server.server_port}{path}"

    def requests(self, path: str) -> list[Request]:
        with self._lock:
            return [r for r in self._requests if r.path == path]

    def events(self, path: str) -> list[dict]:
        return [json.loads(r.body) for r in self.requests(path)]

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    server = Receiver()
    yield server
    server.close()


def signed_correctly(request: Request) -> bool:
    """The receiver's check, written out: HMAC-SHA256 of "<timestamp>.<body>" with the shared secret."""
    timestamp = request.headers["X-NVR-Timestamp"]
    expected = hmac.new(SECRET.encode(), f"{timestamp}.".encode() + request.body, hashlib.sha256).hexdigest()
    fresh = abs(time.time() - int(timestamp)) < 60
    return fresh and hmac.compare_digest(request.headers["X-NVR-Signature"], f"sha256={expected}")


def test_a_real_event_is_posted_signed_retried_after_a_500_and_filtered(
        receiver: Receiver, scene_cameras: RtspServer, tmp_path: Path, make_station) -> None:
    receiver.answers["/flaky"] = [500]
    hooks = [{"url": receiver.url("/all"), "secret": SECRET},
             {"url": receiver.url("/flaky"), "secret": SECRET, "cameras": ["cua-hang"], "types": ["motion"]},
             {"url": receiver.url("/alley"), "secret": SECRET, "cameras": ["hem-4"]},
             {"url": receiver.url("/tamper"), "secret": SECRET, "types": ["tamper_covered", "tamper_moved"]}]
    config = station_config(tmp_path, [{"name": "cua-hang", "record_url": scene_cameras.url("xe-may")},
                                       {"name": "hem-4", "record_url": scene_cameras.url("yen-tinh")}],
                            webhooks=hooks)
    _station, client = make_station(config)

    ended = wait_for(lambda: next((e for e in receiver.events("/all") if e["type"] == "motion" and e["end"]), None),
                     40, "the motion event's end posted")
    assert ended is not None
    assert ended["camera"] == "cua-hang" and ended["clip_url"].endswith(f"/api/events/{ended['id']}/clip.mp4")
    assert client.get(f"/api/events/{ended['id']}").json().items() <= ended.items()
    assert all(signed_correctly(r) for r in receiver.requests("/all"))
    assert all(r.headers["Content-Type"] == "application/json" for r in receiver.requests("/all"))

    wait_for(lambda: any(e["id"] == ended["id"] and e["end"] for e in receiver.events("/flaky")), 20,
             "the flaky receiver's copy of the end")
    first, again = receiver.requests("/flaky")[:2]
    assert first.headers["X-NVR-Delivery"] == again.headers["X-NVR-Delivery"] and first.body == again.body
    assert again.at - first.at >= 0.9, "retried after the first backoff (1 s)"
    assert all(signed_correctly(r) for r in receiver.requests("/flaky"))
    assert {(e["camera"], e["type"]) for e in receiver.events("/flaky")} == {("cua-hang", "motion")}
    # by now anything let through to the other receivers would have been there for over a second
    assert receiver.requests("/alley") == [], "nothing happened on hem-4"
    assert {e["type"] for e in receiver.events("/all")}.isdisjoint({"tamper_covered", "tamper_moved"})
    assert receiver.requests("/tamper") == []


def event(event_id: int, camera: str = "hem-4", type_: str = "motion") -> Event:
    return Event(event_id, camera, type_, 1_700_000_000_000, None, 0.5, (), None, 1_700_000_000_100, None)


def offer(webhooks: Webhooks, *events: Event) -> float:
    """Hand the events over as the event writer does; the seconds it took."""
    began = time.perf_counter()
    for item in events:
        webhooks.event_changed(item, event_message(item, ZoneInfo("Asia/Ho_Chi_Minh"), "post-7", "http://nvr"))
    return time.perf_counter() - began


def test_a_slow_receiver_delays_nothing_else(receiver: Receiver) -> None:
    receiver.slow["/slow"] = 2.0
    webhooks = Webhooks([WebhookConfig(url=receiver.url(path), secret=SECRET) for path in ("/slow", "/fast")])
    webhooks.start()
    try:
        took = offer(webhooks, event(1), event(2), event(3))
        assert took < 0.2, f"handing over took {took * 1000:.1f} ms, as if it waited for the receiver"
        wait_for(lambda: [e["id"] for e in receiver.events("/fast")] == [1, 2, 3], 5, "the fast receiver's three")
        assert len(receiver.requests("/slow")) <= 1, "the fast receiver never waited for the slow one"
        wait_for(lambda: [e["id"] for e in receiver.events("/slow")] == [1, 2, 3], 15, "the slow one's, in order")
    finally:
        webhooks.stop()


def test_filters_by_camera_and_type(receiver: Receiver) -> None:
    webhooks = Webhooks([
        WebhookConfig(url=receiver.url("/hem"), secret=SECRET, cameras=["hem-4"]),
        WebhookConfig(url=receiver.url("/tamper"), secret=SECRET, types=["tamper_covered", "tamper_moved"]),
        WebhookConfig(url=receiver.url("/both"), secret=SECRET, cameras=["cho"], types=["motion"]),
    ])
    webhooks.start()
    try:
        offer(webhooks, event(1, "hem-4", "motion"), event(2, "cho", "motion"), event(3, "cho", "tamper_covered"),
              event(4, "hem-4", "tamper_moved"), event(5, "cho", "night_mode"), event(6, "end", "motion"))
        wait_for(lambda: [len(receiver.requests(p)) for p in ("/hem", "/tamper", "/both")] == [2, 2, 1], 5,
                 "the deliveries")
        assert [e["id"] for e in receiver.events("/hem")] == [1, 4]
        assert [e["id"] for e in receiver.events("/tamper")] == [3, 4]
        assert [e["id"] for e in receiver.events("/both")] == [2]
    finally:
        webhooks.stop()


def test_failures_are_retried_with_growing_delays_a_bounded_number_of_times(receiver: Receiver,
                                                                             monkeypatch) -> None:
    monkeypatch.setattr(webhooks_module, "FIRST_RETRY_SECONDS", 0.05)
    receiver.answers["/down"] = [503] * 100
    receiver.answers["/refused"] = [400] * 100
    webhooks = Webhooks([WebhookConfig(url=receiver.url(path), secret=SECRET) for path in ("/down", "/refused")])
    webhooks.start()
    try:
        offer(webhooks, event(1))
        down, refused = webhooks.targets
        wait_for(lambda: down.given_up == 1 and refused.given_up == 1, 10, "both deliveries given up")
        tries = receiver.requests("/down")
        assert len(tries) == ATTEMPTS and len({r.headers["X-NVR-Delivery"] for r in tries}) == 1
        gaps = [b.at - a.at for a, b in itertools.pairwise(tries)]
        assert all(gap >= 0.05 * 2**k * 0.9 for k, gap in enumerate(gaps)), f"backoff doubles: {gaps}"
        assert len(receiver.requests("/refused")) == 1, "a 400 is final: not tried again"
    finally:
        webhooks.stop()


def test_an_endless_answer_is_not_read_and_the_receiver_s_secret_path_is_not_named(caplog) -> None:
    """A receiver answering 200 and then bytes without end: before, they were read whole into the station's memory
    (1.8 GB in 4 s) and the delivery never finished. Only the status counts. And the receiver is named by its host
    and port: a path or query is often its secret."""
    import socket

    sent, connections = [0], [0]
    listener = socket.create_server(("127.0.0.1", 0))

    def answer_forever() -> None:
        while True:
            try:
                connection, _ = listener.accept()
            except OSError:
                return  # closed at the end of the test
            connections[0] += 1
            with connection:
                connection.recv(65536)
                connection.sendall(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n")
                chunk = b"100000\r\n" + b"x" * 0x100000 + b"\r\n"
                try:
                    while sent[0] < 2_000 * len(chunk):
                        connection.sendall(chunk)
                        sent[0] += len(chunk)
                except OSError:
                    pass  # the station hung up: what this test wants

    threading.Thread(target=answer_forever, daemon=True).start()
    url = f"http://127.0.0.1:{listener.getsockname()[1]}/T0SECRET/B0SECRET?sig=SIGSECRET"
    webhooks = Webhooks([WebhookConfig(url=url, secret=SECRET)])
    (target,) = webhooks.targets
    assert target.name == f"http://127.0.0.1:{listener.getsockname()[1]}"
    webhooks.start()
    try:
        offer(webhooks, event(1), event(2))
        wait_for(lambda: connections[0] == 2, 10, "the first delivery done, the second begun")
        assert target.given_up == 0 and sent[0] < 200 * 0x100000, f"{sent[0]} bytes sent: it was read"
    finally:
        webhooks.stop()
        listener.close()
    assert "SECRET" not in caplog.text


def test_a_receiver_answering_a_byte_at_a_time_is_given_up_at_the_request_s_deadline(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """httpx's timeouts bound each read: a receiver sending its answer's head a byte every half second held the
    delivery, and the sender's thread, for good (a stop waited for it in vain). Now the whole attempt has a
    deadline, and the stop is over in its time."""
    import socket

    monkeypatch.setattr(webhooks_module, "REQUEST_SECONDS", 1.0)
    monkeypatch.setattr(webhooks_module, "ATTEMPTS", 1)
    listener = socket.create_server(("127.0.0.1", 0))
    closed = threading.Event()
    connections = [0]

    def trickle() -> None:
        while not closed.is_set():
            try:
                connection, _ = listener.accept()
            except OSError:
                return
            connections[0] += 1
            with connection:
                connection.recv(65536)
                try:
                    for byte in itertools.cycle(b"HTTP/1.1 200 OK\r\nX-Slow: "):
                        connection.sendall(bytes([byte]))
                        if closed.wait(0.5):
                            return
                except OSError:
                    pass  # the station hung up

    threading.Thread(target=trickle, daemon=True).start()
    webhooks = Webhooks([WebhookConfig(url=f"http://127.0.0.1:{listener.getsockname()[1]}/hook", secret=SECRET)])
    (target,) = webhooks.targets
    webhooks.start()
    try:
        offer(webhooks, event(1))
        wait_for(lambda: target.given_up == 1, 20, "the delivery given up at its deadline")
        offer(webhooks, event(2))
        wait_for(lambda: connections[0] == 2, 20, "the next delivery tried")
        webhooks.stop()
        assert not target._thread.is_alive(), "the stop did not wait for the trickle"
    finally:
        closed.set()
        listener.close()


def test_a_receiver_behind_the_environment_s_proxy_is_reached_through_it(monkeypatch: pytest.MonkeyPatch) -> None:
    """A post that reaches the internet only through a proxy (HTTP_PROXY): the deliveries go through it (found in
    review: given a transport of its own, httpx no longer read the proxy from the environment, and every delivery
    failed)."""
    proxied: list[str] = []

    class Proxy(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            self.rfile.read(int(self.headers["Content-Length"]))
            proxied.append(self.path)  # a proxy is sent the whole URL
            self.send_response(200)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    proxy = ThreadingHTTPServer(("127.0.0.1", 0), Proxy)
    threading.Thread(target=proxy.serve_forever, daemon=True).start()
    monkeypatch.setenv("HTTP_PROXY", f"http://127.0.0.1:{proxy.server_port}")
    monkeypatch.delenv("NO_PROXY", raising=False)
    monkeypatch.delenv("no_proxy", raising=False)
    webhooks = Webhooks([WebhookConfig(url="http://alerts.district.invalid/hook", secret=SECRET)])
    webhooks.start()
    try:
        offer(webhooks, event(1))
        wait_for(lambda: proxied == ["http://alerts.district.invalid/hook"], 10, "the delivery through the proxy")
        assert webhooks.targets[0].given_up == 0
    finally:
        webhooks.stop()
        proxy.shutdown()
        proxy.server_close()
