"""What the district's routes read: the configuration, the shared catalog, the MQTT status, the boxes'
reachability, a client per box, the district's own audit log and its login throttle."""

from __future__ import annotations

from zoneinfo import ZoneInfo

import httpx

from nvr.district.catalog import DistrictCatalog
from nvr.district.config import DistrictConfig
from nvr.district.reachability import Reachability
from nvr.district.status import StatusBoard
from nvr.login_limiter import LoginLimiter
from nvr.times import format_instant
from storage.accounts import AccountStore
from storage.audit import AuditLog


class District:
    def __init__(self, config: DistrictConfig, catalog: DistrictCatalog, accounts: AccountStore, audit: AuditLog,
                 board: StatusBoard | None, reach: Reachability) -> None:
        self.config = config
        self.catalog = catalog
        self.accounts = accounts
        self.audit = audit
        self.login_limiter = LoginLimiter()  # the post's throttle, for logins at the district
        self.board = board
        self.reach = reach
        self.zone = ZoneInfo(config.timezone)
        self.clients: dict[str, httpx.AsyncClient] = {}  # opened and closed by the app's lifespan

    def when(self, ms: int | None) -> str | None:
        return format_instant(ms, self.zone) if ms is not None else None

    def camera_status(self, station: str, camera: str) -> str:
        """online | offline as the post last said on MQTT; unknown without MQTT, before it said anything, or
        while the post itself is offline there (its cameras' retained states are then its last words)."""
        if self.board is None or self.board.available(station) == "offline":
            return "unknown"
        return self.board.camera(station, camera) or "unknown"
