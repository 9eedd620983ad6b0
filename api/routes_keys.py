"""Administrators make, list and revoke machine keys (storage/machine_keys.py); every change is audited and
a revoked key's event streams and live views end at once."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated, Any

from anyio import from_thread
from fastapi import APIRouter, Depends, HTTPException, Path, Request
from pydantic import AfterValidator, BaseModel, Field

from api.auth import admin_user, remote_address
from api.connections import KEY_REVOKED, Connections
from api.deps import get_connections, get_station
from nvr.config import one_line
from nvr.station import Station
from nvr.times import format_instant
from storage.accounts import AccountError, User
from storage.machine_keys import MAX_LABEL, MachineKey, MachineKeys

router = APIRouter(prefix="/api/users/{username}/keys")
KeyId = Annotated[int, Path(ge=1, le=2**31 - 1, description="a key's id (GET lists them)")]


class NewKey(BaseModel):
    label: Annotated[str, Field(max_length=MAX_LABEL), AfterValidator(one_line)] = ""


def _keys(station: Station) -> MachineKeys:
    return MachineKeys(station.index, station.accounts)


def key_json(key: MachineKey, station: Station) -> dict[str, Any]:
    zone = station.config.zone
    return {"id": key.id, "label": key.label, "created": format_instant(key.created_ms, zone),
            "revoked": format_instant(key.revoked_ms, zone) if key.revoked_ms is not None else None}


@contextmanager
def _not_found() -> Iterator[None]:
    """An unknown user or key: 404."""
    try:
        yield
    except AccountError as exc:
        raise HTTPException(404, str(exc)) from None


@router.get("")
def list_keys(username: str, _admin: User = Depends(admin_user),
              station: Station = Depends(get_station)) -> list[dict[str, Any]]:
    """The user's keys, revoked ones too (never the keys themselves)."""
    with _not_found():
        keys = _keys(station).listed(username)
    return [key_json(key, station) for key in keys]


@router.post("", status_code=201)
def create_key(username: str, body: NewKey, request: Request, admin: User = Depends(admin_user),
               station: Station = Depends(get_station)) -> dict[str, Any]:
    """A new key; `key` is in this answer only."""
    with _not_found():
        created, secret = _keys(station).create(username, body.label)
    station.audit.record("key_create", username=admin.username, remote=remote_address(request),
                         detail=created.described)
    return {**key_json(created, station), "key": secret}


@router.delete("/{key_id}")
def revoke_key(username: str, key_id: KeyId, request: Request, admin: User = Depends(admin_user),
               station: Station = Depends(get_station), connections: Connections = Depends(get_connections)
               ) -> dict[str, Any]:
    with _not_found():
        revoked = _keys(station).revoke(username, key_id)
    for key in revoked:
        from_thread.run(connections.end_digest, key.digest, KEY_REVOKED)
        station.audit.record("key_revoke", username=admin.username, remote=remote_address(request),
                             detail=key.described)
    return key_json(revoked[0], station)
