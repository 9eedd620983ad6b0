"""The HTTP API: health, cameras and their status, recordings and clips."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager, nullcontext
from pathlib import Path

from fastapi import Depends, FastAPI, Request
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse
from fastapi.staticfiles import StaticFiles

from api.auth import current_user
from api.auth import router as auth_router
from api.routes_admin import router as admin_router
from api.routes_camera_admin import router as camera_admin_router
from api.routes_cameras import router as cameras_router
from api.routes_events import router as events_router
from api.routes_live import router as live_router
from api.routes_playback import router as playback_router
from api.routes_recordings import router as recordings_router
from api.routes_storage import router as storage_router
from api.routes_users import router as users_router
from api.security_headers import SecurityHeaders
from api.webrtc.sessions import LiveSessions
from nvr.station import Station

WEB_DIR = Path(__file__).with_name("web")
Lifespan = Callable[[FastAPI], AbstractAsyncContextManager[None]]


def create_app(station: Station, lifespan: Lifespan | None = None) -> FastAPI:
    """The API for `station`; `lifespan` (optional) wraps the app's own start and stop."""

    @asynccontextmanager
    async def own_lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with lifespan(app) if lifespan else nullcontext():
            try:
                yield
            finally:
                await app.state.live.close_all()

    public_docs = station.config.server.public_docs
    app = FastAPI(title="Station NVR", version="0.1.0", lifespan=own_lifespan,  # private docs: added below
                  openapi_url="/openapi.json" if public_docs else None, docs_url="/docs" if public_docs else None,
                  redoc_url="/redoc" if public_docs else None)
    app.state.station = station
    app.state.live = LiveSessions()
    app.include_router(auth_router)
    app.include_router(admin_router)
    app.include_router(cameras_router)
    app.include_router(camera_admin_router)
    app.include_router(live_router)
    app.include_router(events_router)
    app.include_router(users_router)
    app.include_router(recordings_router)
    app.include_router(playback_router)
    app.include_router(storage_router)

    app.mount("/ui", StaticFiles(directory=WEB_DIR), name="ui")
    if not public_docs:
        _add_private_docs(app)

    @app.get("/", include_in_schema=False)
    def index() -> FileResponse:
        return FileResponse(WEB_DIR / "index.html")

    app.add_middleware(SecurityHeaders)

    @app.exception_handler(ValueError)
    async def bad_value(_request: Request, exc: ValueError) -> JSONResponse:
        return JSONResponse({"detail": str(exc)}, status_code=400)

    return app


def _add_private_docs(app: FastAPI) -> None:
    """The API's description and its pages, for logged-in users only (`server.public_docs: false`): the
    station faces the Internet, and the list of routes is a map for whoever probes it."""
    title = f"{app.title} API"

    @app.get("/openapi.json", include_in_schema=False, dependencies=[Depends(current_user)])
    def openapi() -> JSONResponse:
        return JSONResponse(app.openapi())

    @app.get("/docs", include_in_schema=False, dependencies=[Depends(current_user)])
    def docs() -> HTMLResponse:
        return get_swagger_ui_html(openapi_url="/openapi.json", title=title)

    @app.get("/redoc", include_in_schema=False, dependencies=[Depends(current_user)])
    def redoc() -> HTMLResponse:
        return get_redoc_html(openapi_url="/openapi.json", title=title)
