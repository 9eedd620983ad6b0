"""API request latency for `/metrics`, as a plain ASGI middleware (see security_headers.py for why not
Starlette's `BaseHTTPMiddleware`): the time to the start of the answer, by route template and method. The
template (`/api/cameras/{name}`), never the raw path: a path holds camera names, event ids and file
names, a new series each. A streamed clip counts until its first bytes, not its whole length."""

from __future__ import annotations

import time

from prometheus_client import Histogram
from starlette.types import ASGIApp, Message, Receive, Scope, Send

UNMATCHED = "unmatched"  # no route: 404s for paths nobody serves, probes
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})  # any other counts as "other"


def latency_histogram() -> Histogram:
    """Registered with the app's own registry (nvr/metrics.py), not the process-wide one."""
    return Histogram("nvr_http_request_duration_seconds", "API requests: time to the start of the answer",
                     labelnames=["route", "method"], registry=None)


class RequestLatency:
    def __init__(self, app: ASGIApp, histogram: Histogram) -> None:
        self.app = app
        self._histogram = histogram

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        timed = False

        def observe() -> None:
            nonlocal timed
            if not timed:
                timed = True
                route = getattr(scope.get("route"), "path", None) or UNMATCHED  # set by the router it reached
                method = scope["method"] if scope["method"] in METHODS else "other"  # a made-up one: no new series
                self._histogram.labels(route, method).observe(time.perf_counter() - started)

        async def send_timed(message: Message) -> None:
            if message["type"] == "http.response.start":
                observe()
            await send(message)

        try:
            await self.app(scope, receive, send_timed)
        finally:
            observe()  # an answer that never started (an error): timed to the failure
