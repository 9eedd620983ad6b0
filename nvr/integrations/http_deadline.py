"""One deadline for a whole HTTP request, for httpx's synchronous client.

httpx's timeouts bound each read and write, so a server that answers a byte every few seconds holds a request for
as long as it likes. Here every read, write and connect of the client's connections waits at most what is left of
the deadline set with `start`, and fails with httpx's own timeout errors once it has passed. One deadline per
client: use a client from one thread.
"""

from __future__ import annotations

import math
import ssl
import time
from collections.abc import Iterable
from typing import Any

import httpcore
import httpx
from httpx._utils import get_environment_proxies


class Deadline(httpcore.NetworkBackend):
    def __init__(self) -> None:
        self._backend = httpcore.SyncBackend()
        self._until = math.inf

    def start(self, seconds: float) -> None:
        """The next request (and whatever it reads and writes) must be done within `seconds` from now."""
        self._until = time.monotonic() + seconds

    def left(self, timeout: float | None, late: type[Exception]) -> float:
        remaining = self._until - time.monotonic()
        if remaining <= 0:
            raise late("the request's deadline passed")
        return remaining if timeout is None else min(timeout, remaining)

    def connect_tcp(self, host: str, port: int, timeout: float | None = None, local_address: str | None = None,
                    socket_options: Iterable[Any] | None = None) -> httpcore.NetworkStream:
        stream = self._backend.connect_tcp(host, port, self.left(timeout, httpcore.ConnectTimeout), local_address,
                                           socket_options)
        return _Stream(stream, self)

    def connect_unix_socket(self, path: str, timeout: float | None = None,
                            socket_options: Iterable[Any] | None = None) -> httpcore.NetworkStream:
        return _Stream(self._backend.connect_unix_socket(path, self.left(timeout, httpcore.ConnectTimeout),
                                                         socket_options), self)

    def sleep(self, seconds: float) -> None:
        self._backend.sleep(seconds)


class _Stream(httpcore.NetworkStream):
    def __init__(self, stream: httpcore.NetworkStream, deadline: Deadline) -> None:
        self._stream = stream
        self._deadline = deadline

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        return self._stream.read(max_bytes, self._deadline.left(timeout, httpcore.ReadTimeout))

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        self._stream.write(buffer, self._deadline.left(timeout, httpcore.WriteTimeout))

    def close(self) -> None:
        self._stream.close()

    def start_tls(self, ssl_context: ssl.SSLContext, server_hostname: str | None = None,
                  timeout: float | None = None) -> httpcore.NetworkStream:
        secured = self._stream.start_tls(ssl_context, server_hostname, self._deadline.left(timeout,
                                                                                          httpcore.ConnectTimeout))
        return _Stream(secured, self._deadline)

    def get_extra_info(self, info: str) -> Any:
        return self._stream.get_extra_info(info)


class DeadlineTransport(httpx.HTTPTransport):
    """httpx's transport (direct, or through `proxy`) with its connections made by `deadline` (httpx keeps its
    connection pool in `_pool`, and httpcore a pool's backend in `_network_backend`; tests/test_webhooks.py shows
    the deadline holds, directly and through a proxy)."""

    def __init__(self, deadline: Deadline, proxy: httpx.Proxy | None = None) -> None:
        super().__init__(proxy=proxy)
        self._pool._network_backend = deadline


def deadline_client(deadline: Deadline, **options: Any) -> httpx.Client:
    """An httpx client on `deadline`'s connections, through the proxies the environment names (HTTP_PROXY,
    HTTPS_PROXY, ALL_PROXY, NO_PROXY) as httpx reads them: it reads them only when it is given no transport."""
    mounts: dict[str, httpx.BaseTransport | None] = {
        pattern: None if url is None else DeadlineTransport(deadline, httpx.Proxy(url))
        for pattern, url in get_environment_proxies().items()}
    return httpx.Client(transport=DeadlineTransport(deadline), mounts=mounts, **options)
