"""This station: its id, title, time zone and the public key that checks its signed exports."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends

from api.auth import current_user
from api.deps import get_station
from nvr.evidence.signing import fingerprint, public_base64, public_pem
from nvr.station import Station
from storage.accounts import User

router = APIRouter(prefix="/api")


@router.get("/station")
def station_info(_user: Annotated[User, Depends(current_user)],
                 station: Annotated[Station, Depends(get_station)]) -> dict[str, Any]:
    """`public_key` is the base64 of the raw Ed25519 key (`nvr verify --key` takes it as it is)."""
    key = station.key.public
    return {"id": station.index.station, "title": station.config.station.title,
            "timezone": station.config.timezone, "public_key": public_base64(key), "public_key_pem": public_pem(key),
            "key_fingerprint": fingerprint(key)}
