"""The station's real HTTP server (uvicorn, in a thread of the test process) and Debian's Chromium."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager

import httpx
import uvicorn
from playwright.sync_api import Browser, Page, sync_playwright

from api.app import create_app
from nvr.commands.run import forwarding
from nvr.config import ServerConfig
from nvr.station import Station
from tests.support.rtsp import free_port

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                  "--disable-sync", "--no-first-run", "--disable-quic",
                  "--autoplay-policy=no-user-gesture-required"]


@contextmanager
def serving(station: Station, log_level: str = "warning", server_config: ServerConfig | None = None) -> Iterator[str]:
    """Serve `station` as `nvr run` does on a free loopback port; yields the base URL. `log_level="info"` turns
    uvicorn's access log on (into the root logger's handlers, as `nvr run` does); `server_config`: instead of
    the station's."""
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(create_app(station), host="127.0.0.1", port=port, log_config=None,
                                           log_level=log_level, **forwarding(server_config or station.config.server)))
    thread = threading.Thread(target=server.run, name="uvicorn", daemon=True)
    thread.start()
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(200):
            if server.started:
                break
            threading.Event().wait(0.05)
        httpx.get(f"{base}/api/health", timeout=5).raise_for_status()
        yield base
    finally:
        server.should_exit = True
        thread.join(10)


@contextmanager
def chromium() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)
        try:
            yield browser
        finally:
            browser.close()


def log_in(page: Page, base: str, username: str, password: str) -> None:
    page.goto(base)
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", password)
    page.click("#login-form button[type=submit]")
