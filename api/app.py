"""The HTTP API: health, cameras and their status, recordings and clips."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager, nullcontext

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from api.auth import router as auth_router
from api.live import LiveSessions
from api.routes_admin import router as admin_router
from api.routes_cameras import router as cameras_router
from api.routes_live import router as live_router
from api.routes_recordings import router as recordings_router
from nvr.station import Station


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

    app = FastAPI(title="Station NVR", version="0.1.0", lifespan=own_lifespan)
    app.state.station = station
    app.state.live = LiveSessions()
    app.include_router(auth_router)
    app.include_router(admin_router)
    app.include_router(cameras_router)
    app.include_router(live_router)
    app.include_router(recordings_router)

    @app.exception_handler(ValueError)
    async def bad_value(_request: Request, exc: ValueError) -> JSONResponse:
        return JSONResponse({"detail": str(exc)}, status_code=400)

    return app
