"""Addresses carrying a NUL character are refused (400) before any route sees them.

PostgreSQL cannot store or even compare text with a NUL in it: a camera name, a user name or a filter with
`%00` reached the catalog and came back as a 500 from the driver (before a login, too). No name, filter or
time in this API has a reason to hold one. A plain ASGI middleware, as `security_headers`: nothing per request
but a scan of the path and the query."""

from __future__ import annotations

import json
from urllib.parse import unquote_to_bytes

from starlette.types import ASGIApp, Receive, Scope, Send

REFUSED = "the address holds a NUL character (%00), which no name, filter or time may contain"


def holds_nul(scope: Scope) -> bool:
    """Does the request's path or query string, decoded, hold a NUL?"""
    return "\x00" in scope["path"] or b"\x00" in unquote_to_bytes(scope.get("query_string", b""))


class RefuseNul:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket") or not holds_nul(scope):
            await self.app(scope, receive, send)
            return
        if scope["type"] == "websocket":  # refused at the handshake (an HTTP 403)
            await receive()  # the connect
            await send({"type": "websocket.close", "code": 1008, "reason": "NUL in the address"})
            return
        body = json.dumps({"detail": REFUSED}).encode()
        await send({"type": "http.response.start", "status": 400,
                    "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]})
        await send({"type": "http.response.body", "body": body})
