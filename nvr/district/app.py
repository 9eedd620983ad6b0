"""The district server's API and web page (same conventions as a station's: the session cookie of a login
here, bearer tokens or machine keys of the shared accounts, ISO 8601 times in the district's zone).
Administrators and operators see every post; a viewer only the posts and cameras granted
(nvr/district/access.py)."""

from __future__ import annotations

import asyncio
from collections import defaultdict
from collections.abc import AsyncIterator, Collection
from contextlib import asynccontextmanager, suppress
from pathlib import Path
from typing import Any

from fastapi import Depends, FastAPI, HTTPException, Query
from fastapi.responses import FileResponse
from fastapi.staticfiles import StaticFiles

from api.app import WEB_DIR, add_private_docs
from api.catalog_away import answer_catalog_away
from api.deps import zoned_window
from api.refuse_nul import RefuseNul
from api.security_headers import SecurityHeaders
from api.validation_errors import refuse_without_echo
from detect.events import EVENT_TYPES
from nvr.district.access import DistrictUser, district_user
from nvr.district.case_routes import router as cases_router
from nvr.district.catalog import CatalogCamera, EventQuery, Footage, Place
from nvr.district.footage import router as footage_router
from nvr.district.live import router as live_router
from nvr.district.live_relay import LiveRelays
from nvr.district.login import router as login_router
from nvr.district.relay import station_clients
from nvr.district.state import District
from nvr.integrations.event_json import event_json
from storage.clock import now_ms

DAY_MS = 86_400_000
DISTRICT_WEB_DIR = Path(__file__).with_name("web")
CATALOG_AWAY = "the catalog (database) does not answer: nothing was changed; try again"


def create_district_app(district: District) -> FastAPI:
    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if district.board is not None:
            district.board.start()
        district.clients = station_clients(district.config.stations)
        app.state.live_relays = LiveRelays()
        polling = asyncio.create_task(district.reach.run(district.clients))
        try:
            yield
        finally:
            polling.cancel()
            with suppress(asyncio.CancelledError):
                await polling
            await app.state.live_relays.close()
            await asyncio.gather(*(client.aclose() for client in district.clients.values()))
            if district.board is not None:
                district.board.stop()

    app = FastAPI(title="Station NVR district", lifespan=lifespan, openapi_url=None, docs_url=None, redoc_url=None)
    add_private_docs(app, district_user)
    app.state.district = district
    app.add_middleware(RefuseNul)  # inside the headers: its 400 gets them too
    app.add_middleware(SecurityHeaders)  # the station's: its answers are never kept by a browser either
    refuse_without_echo(app)  # the station's: nothing sent echoed
    answer_catalog_away(app, CATALOG_AWAY)
    app.include_router(login_router)
    app.include_router(footage_router)
    app.include_router(cases_router)
    app.include_router(live_router)
    app.mount("/ui", StaticFiles(directory=WEB_DIR), name="ui")  # the station's i18n, api.js and style
    app.mount("/district-ui", StaticFiles(directory=DISTRICT_WEB_DIR), name="district-ui")

    @app.get("/", include_in_schema=False)
    def index() -> FileResponse:
        return FileResponse(DISTRICT_WEB_DIR / "index.html")

    @app.get("/api/health")
    def health() -> dict[str, Any]:
        return {"status": "ok", "stations": len(district.config.stations)}

    @app.get("/api/stations")
    def stations(user: DistrictUser = Depends(district_user)) -> list[dict[str, Any]]:
        """Each post: reachability, cameras online of total, days of footage kept, when it was last seen. A viewer
        (a household) is told of its own cameras only: footage from them, and not the post's address or errors."""
        visible = user.stations(district)
        cameras = [c for c in district.catalog.cameras(visible) if user.may_see(c.station, c.name)]
        staff = user.places is None
        footages = district.catalog.footage(visible) if staff else district.catalog.cameras_footage(user.places or ())
        by_station: dict[str, list[CatalogCamera]] = defaultdict(list)
        for camera in cameras:
            by_station[camera.station].append(camera)
        listed = []
        for link in (s for s in district.config.stations if s.id in visible):
            own = by_station[link.id]
            footage = footages.get(link.id, Footage(None, None))
            reach = district.reach.reach.get(link.id) if staff else None
            seen = max((ms for ms in (footage.newest_ms, reach.last_answer_ms if reach else None) if ms is not None),
                       default=None)
            listed.append({
                "id": link.id, "title": link.title or link.id, "url": link.url if staff else None,
                "reachable": reach.reachable if reach else None, "error": reach.error if reach else None,
                "mqtt": district.board.available(link.id) if district.board and staff else None,
                "cameras_total": len(own),
                "cameras_online": sum(district.camera_status(link.id, c.name) == "online" for c in own),
                "disk_days_kept": round((now_ms() - footage.oldest_ms) / DAY_MS, 2) if footage.oldest_ms else 0.0,
                "oldest": district.when(footage.oldest_ms), "last_seen": district.when(seen)})
        return listed

    @app.get("/api/cameras")
    def cameras(user: DistrictUser = Depends(district_user)) -> list[dict[str, Any]]:
        """Every camera of every post, from the shared catalog, with its status from MQTT."""
        found = district.catalog.cameras(user.stations(district))
        return [{"station": c.station, "name": c.name, "title": c.title,
                 "status": district.camera_status(c.station, c.name)}
                for c in found if user.may_see(c.station, c.name)]

    @app.get("/api/events")
    def events(station: str | None = None, camera: str | None = None, type: str | None = None,  # noqa: A002
               start: str | None = None, end: str | None = None, acknowledged: bool | None = None,
               limit: int = Query(200, ge=1, le=5000),
               user: DistrictUser = Depends(district_user)) -> list[dict[str, Any]]:
        """A post's event search across the posts (default: the last 24 hours), newest first; each event
        with its `station`. `camera` names a camera of `station` (or of every post, without one)."""
        if type is not None and type not in EVENT_TYPES:
            raise HTTPException(400, f"unknown event type {type!r}; one of {', '.join(EVENT_TYPES)}")
        visible = user.stations(district)
        if station is not None and station not in visible:
            raise HTTPException(404, f"no station {station!r}")
        chosen = [station] if station else visible
        window = zoned_window(district.zone, start, end)
        places: Collection[Place] | None = user.places
        if camera is not None:
            places = {(s, camera) for s in chosen if user.may_see(s, camera)}
        found = district.catalog.events(EventQuery(chosen, places, [type] if type else None, window.start_ms,
                                                   window.end_ms, limit, acknowledged)) if chosen else []
        return [{**event_json(event, district.zone), "station": where} for where, event in found]

    return app
