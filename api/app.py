"""The HTTP API: health, cameras and their status, recordings and clips, cases, bookmarks and exports."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager, nullcontext
from pathlib import Path

from fastapi import Depends, FastAPI, Request
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse
from fastapi.staticfiles import StaticFiles

from api.auth import current_user
from api.auth import router as auth_router
from api.catalog_away import answer_catalog_away
from api.connections import Connections
from api.refuse_nul import RefuseNul
from api.request_latency import RequestLatency, latency_histogram
from api.routes_admin import router as admin_router
from api.routes_bookmarks import router as bookmarks_router
from api.routes_camera_admin import router as camera_admin_router
from api.routes_cameras import router as cameras_router
from api.routes_case_export import router as case_export_router
from api.routes_cases import router as cases_router
from api.routes_detection_areas import router as detection_areas_router
from api.routes_discover import router as discover_router
from api.routes_events import router as events_router
from api.routes_health import router as health_router
from api.routes_keys import router as keys_router
from api.routes_live import router as live_router
from api.routes_live_mp4 import router as live_mp4_router
from api.routes_metrics import router as metrics_router
from api.routes_motion_search import router as motion_search_router
from api.routes_playback import router as playback_router
from api.routes_recordings import router as recordings_router
from api.routes_station import router as station_router
from api.routes_storage import router as storage_router
from api.routes_users import router as users_router
from api.security_headers import SecurityHeaders
from api.session_watch import watch_sessions
from api.validation_errors import refuse_without_echo
from api.webrtc.live_sources import LiveSources
from api.webrtc.sessions import LiveSessions
from nvr.metrics import metrics_registry
from nvr.station import Station
from storage.cases import CaseHeld

WEB_DIR = Path(__file__).with_name("web")
CATALOG_AWAY = "the catalog (database) does not answer; recording goes on and its rows are written once it is back"
Lifespan = Callable[[FastAPI], AbstractAsyncContextManager[None]]


def create_app(station: Station, lifespan: Lifespan | None = None) -> FastAPI:
    """The API for `station`; `lifespan` (optional) wraps the app's own start and stop."""

    @asynccontextmanager
    async def own_lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with lifespan(app) if lifespan else nullcontext():
            watch = asyncio.create_task(watch_sessions(app.state.connections, station.accounts))
            try:
                yield
            finally:
                watch.cancel()
                await app.state.live.close_all()

    server = station.config.server
    public_docs = server.public_docs
    app = FastAPI(title="Station NVR", version="0.1.0", lifespan=own_lifespan,  # private docs: added below
                  openapi_url="/openapi.json" if public_docs else None, docs_url="/docs" if public_docs else None,
                  redoc_url="/redoc" if public_docs else None)
    app.state.station = station
    app.state.live = LiveSessions(server.live_connect_timeout_seconds)
    app.state.live_sources = LiveSources()
    app.state.connections = Connections({"live": server.max_live_views_per_user,
                                         "websocket": server.max_websockets_per_user})
    app.include_router(auth_router)
    app.include_router(admin_router)
    app.include_router(cameras_router)
    app.include_router(camera_admin_router)
    app.include_router(discover_router)
    app.include_router(live_router)
    app.include_router(live_mp4_router)
    app.include_router(events_router)
    app.include_router(users_router)
    app.include_router(keys_router)
    app.include_router(recordings_router)
    app.include_router(motion_search_router)
    app.include_router(detection_areas_router)
    app.include_router(playback_router)
    app.include_router(storage_router)
    app.include_router(station_router)
    app.include_router(cases_router)
    app.include_router(case_export_router)
    app.include_router(bookmarks_router)
    app.include_router(metrics_router)
    app.include_router(health_router)

    app.mount("/ui", StaticFiles(directory=WEB_DIR), name="ui")
    if not public_docs:
        add_private_docs(app, current_user)

    @app.get("/", include_in_schema=False)
    def index() -> FileResponse:
        return FileResponse(WEB_DIR / "index.html")

    app.add_middleware(RefuseNul)  # inside the headers: its 400 gets them too
    app.add_middleware(SecurityHeaders)
    latency = latency_histogram()
    app.state.metrics = metrics_registry(station, latency)
    app.add_middleware(RequestLatency, histogram=latency)

    refuse_without_echo(app)

    @app.exception_handler(ValueError)
    async def bad_value(_request: Request, exc: ValueError) -> JSONResponse:
        return JSONResponse({"detail": str(exc)}, status_code=400)

    @app.exception_handler(CaseHeld)
    async def held_for_district(_request: Request, exc: CaseHeld) -> JSONResponse:
        return JSONResponse({"detail": str(exc)}, status_code=409)

    answer_catalog_away(app, CATALOG_AWAY)
    return app


def add_private_docs(app: FastAPI, logged_in: Callable[..., object]) -> None:
    """The API's description and its pages, for users `logged_in` accepts only (a station's
    `server.public_docs: false`, and the district's): the box faces the Internet, and the list of routes is a
    map for whoever probes it. The app is made with `openapi_url`, `docs_url` and `redoc_url` None."""
    title = f"{app.title} API"

    @app.get("/openapi.json", include_in_schema=False, dependencies=[Depends(logged_in)])
    def openapi() -> JSONResponse:
        return JSONResponse(app.openapi())

    @app.get("/docs", include_in_schema=False, dependencies=[Depends(logged_in)])
    def docs() -> HTMLResponse:
        return get_swagger_ui_html(openapi_url="/openapi.json", title=title)

    @app.get("/redoc", include_in_schema=False, dependencies=[Depends(logged_in)])
    def redoc() -> HTMLResponse:
        return get_redoc_html(openapi_url="/openapi.json", title=title)
