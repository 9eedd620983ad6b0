"""`GET /metrics` for Prometheus: an administrator (token or session), or whoever holds `metrics.key`."""

from __future__ import annotations

import hmac

from fastapi import APIRouter, Depends, Request, Response
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest

from api.auth import is_admin, may_use, presented_token, signed_in
from api.deps import get_station
from nvr.station import Station

router = APIRouter()


def _holds_key(request: Request, station: Station) -> bool:
    """The request presents the configured metrics key (compared in constant time)."""
    key = station.config.metrics.key
    presented = presented_token(request)
    return key is not None and presented is not None and \
        hmac.compare_digest(presented.encode(), key.get_secret_value().encode())


@router.get("/metrics", include_in_schema=False)
def metrics(request: Request, station: Station = Depends(get_station)) -> Response:
    """The station's metrics in Prometheus's text format; 401 without a login or key, 403 for a non-administrator.
    A plain `def`: the scrape reads the catalog, in a worker thread."""
    if not _holds_key(request, station):
        is_admin(may_use(signed_in(request, station)))
    registry: CollectorRegistry = request.app.state.metrics
    return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST, headers={"Cache-Control": "no-store"})
