"""Headers on every answer, as a plain ASGI middleware: Starlette's `BaseHTTPMiddleware` costs a task and a
memory stream per request, and sits between every chunk of a streamed clip and the socket."""

from __future__ import annotations

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

# Everything the station screen needs is served from here: the post's network may have no internet.
CONTENT_POLICY = ("default-src 'self'; img-src 'self' data: blob:; media-src 'self' blob:; "
                  "connect-src 'self' ws: wss:; style-src 'self'; script-src 'self'; frame-ancestors 'none'")


class SecurityHeaders:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        api = scope["path"].startswith("/api/")

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                headers.setdefault("Content-Security-Policy", CONTENT_POLICY)
                headers.setdefault("X-Content-Type-Options", "nosniff")
                headers.setdefault("Referrer-Policy", "same-origin")
                headers["X-Frame-Options"] = "DENY"
                if api:  # cameras, events, pictures, accounts: never kept by a browser
                    headers["Cache-Control"] = "no-store"
            await send(message)

        await self.app(scope, receive, send_with_headers)
