"""The district server's API (same conventions as a station's: bearer tokens or machine keys of the shared
accounts, ISO 8601 times in the district's zone). District users are administrators and operators; a
household's account (viewer) is refused, since grants by station are not built yet."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress
from typing import Any
from zoneinfo import ZoneInfo

from fastapi import Depends, FastAPI, HTTPException, Request

from nvr.district.catalog import DistrictCatalog
from nvr.district.config import DistrictConfig
from nvr.district.reachability import Reachability
from nvr.district.status import StatusBoard
from nvr.times import format_instant
from storage.accounts import AccountStore, User
from storage.clock import now_ms

DAY_MS = 86_400_000


class District:
    """What the routes read: the configuration, the shared catalog, the MQTT status, the boxes' reachability."""

    def __init__(self, config: DistrictConfig, catalog: DistrictCatalog, accounts: AccountStore,
                 board: StatusBoard | None, reach: Reachability) -> None:
        self.config = config
        self.catalog = catalog
        self.accounts = accounts
        self.board = board
        self.reach = reach
        self.zone = ZoneInfo(config.timezone)

    def when(self, ms: int | None) -> str | None:
        return format_instant(ms, self.zone) if ms is not None else None

    def camera_status(self, station: str, camera: str) -> str:
        """online | offline as the post last said on MQTT; unknown without MQTT, before it said anything, or
        while the post itself is offline there (its cameras' retained states are then its last words)."""
        if self.board is None or self.board.available(station) == "offline":
            return "unknown"
        return self.board.camera(station, camera) or "unknown"


def district_of(request: Request) -> District:
    district: District = request.app.state.district
    return district


def district_user(request: Request, district: District = Depends(district_of)) -> User:
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    user = district.accounts.user_for_token(token.strip()) if scheme.lower() == "bearer" and token.strip() else None
    if user is None:
        raise HTTPException(401, "log in first (missing, expired or unknown token)",
                            headers={"WWW-Authenticate": "Bearer"})
    if user.must_change_password:
        raise HTTPException(403, "change the generated password first")
    if user.role not in ("admin", "operator"):
        raise HTTPException(403, "only an administrator or an operator may use the district server")
    return user


def create_district_app(district: District) -> FastAPI:
    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        if district.board is not None:
            district.board.start()
        polling = asyncio.create_task(district.reach.run())
        try:
            yield
        finally:
            polling.cancel()
            with suppress(asyncio.CancelledError):
                await polling
            if district.board is not None:
                district.board.stop()

    app = FastAPI(title="Station NVR district", lifespan=lifespan)
    app.state.district = district

    @app.get("/api/health")
    def health() -> dict[str, Any]:
        return {"status": "ok", "stations": len(district.config.stations)}

    @app.get("/api/stations")
    def stations(_user: User = Depends(district_user)) -> list[dict[str, Any]]:
        """Each post: reachability, cameras online of total, days of footage kept, when it was last seen."""
        links = district.config.stations
        cameras = district.catalog.cameras([s.id for s in links])
        listed = []
        for link in links:
            own = [c for c in cameras if c.station == link.id]
            footage = district.catalog.footage(link.id)
            reach = district.reach.reach.get(link.id)
            seen = max((ms for ms in (footage.newest_ms, reach.last_answer_ms if reach else None) if ms is not None),
                       default=None)
            listed.append({
                "id": link.id, "title": link.title or link.id, "url": link.url,
                "reachable": reach.reachable if reach else None, "error": reach.error if reach else None,
                "mqtt": district.board.available(link.id) if district.board else None,
                "cameras_total": len(own),
                "cameras_online": sum(district.camera_status(link.id, c.name) == "online" for c in own),
                "disk_days_kept": round((now_ms() - footage.oldest_ms) / DAY_MS, 2) if footage.oldest_ms else 0.0,
                "oldest": district.when(footage.oldest_ms), "last_seen": district.when(seen)})
        return listed

    @app.get("/api/cameras")
    def cameras(_user: User = Depends(district_user)) -> list[dict[str, Any]]:
        """Every camera of every post, from the shared catalog, with its status from MQTT."""
        found = district.catalog.cameras([s.id for s in district.config.stations])
        return [{"station": c.station, "name": c.name, "title": c.title,
                 "status": district.camera_status(c.station, c.name)} for c in found]

    return app
