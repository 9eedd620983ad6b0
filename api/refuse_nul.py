"""Addresses carrying a NUL character are refused (400) before any route sees them.

PostgreSQL cannot store or even compare text with a NUL in it: a camera name, a user name or a filter with
`%00` reached the catalog and came back as a 500 from the driver (before a login, too). No name, filter or
time in this API has a reason to hold one. A plain ASGI middleware, as `security_headers`: nothing per request
but a scan of the path and the query."""

from __future__ import annotations

from urllib.parse import unquote_to_bytes

from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Receive, Scope, Send
from starlette.websockets import WebSocketClose

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
        refusal = (WebSocketClose(1008, "NUL in the address") if scope["type"] == "websocket"  # at the handshake
                   else JSONResponse({"detail": REFUSED}, status_code=400))
        await refusal(scope, receive, send)
