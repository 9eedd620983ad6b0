"""Administrators manage accounts and camera grants; every change is audited."""

from __future__ import annotations

from typing import Any

from anyio import from_thread
from fastapi import APIRouter, Depends, HTTPException, Request
from pydantic import BaseModel

from api.auth import admin_user, password_setter, remote_address
from api.connections import PASSWORD_CHANGED, Connections
from api.deps import get_connections, get_station
from nvr.first_admin import set_password as change_password
from nvr.station import Station
from storage.accounts import AccountError, User
from storage.roles import Role

router = APIRouter(prefix="/api/users")


class NewUser(BaseModel):
    username: str
    password: str
    role: Role


class NewPassword(BaseModel):
    password: str


class Grants(BaseModel):
    cameras: list[str]


def user_json(user: User) -> dict[str, Any]:
    return {"username": user.username, "role": user.role, "cameras": sorted(user.cameras)}


def _account_change(call):  # type: ignore[no-untyped-def]
    try:
        return call()
    except AccountError as exc:
        status = 404 if str(exc).startswith("no user named") else 400
        raise HTTPException(status, str(exc)) from None


@router.get("")
def list_users(_admin: User = Depends(admin_user), station: Station = Depends(get_station)) -> list[dict[str, Any]]:
    return [user_json(u) for u in station.accounts.all_users()]


@router.post("", status_code=201)
def add_user(new: NewUser, request: Request, admin: User = Depends(admin_user),
             station: Station = Depends(get_station)) -> dict[str, Any]:
    created = _account_change(lambda: station.accounts.add(new.username, new.password, new.role))
    station.audit.record("user_add", username=admin.username, remote=remote_address(request),
                         detail=f"user {new.username} role {new.role}")
    return user_json(created)


@router.post("/{username}/password")
def set_password(username: str, body: NewPassword, request: Request, setter: User = Depends(password_setter),
                 station: Station = Depends(get_station), connections: Connections = Depends(get_connections)
                 ) -> dict[str, str]:
    """An administrator sets anyone's password; a user who must change theirs sets it here too. Every
    session of the user ends, with its event streams and live views: also the session that asks (they log
    in again with the new password)."""
    changed = _account_change(lambda: change_password(station.accounts, station.config.data_dir, username,
                                                      body.password))
    from_thread.run(connections.end_user, changed.id, PASSWORD_CHANGED)
    station.audit.record("user_passwd", username=setter.username, remote=remote_address(request),
                         detail=f"user {username}")
    return {"status": "password changed; the user's sessions have ended"}


@router.put("/{username}/grants")
def set_grants(username: str, body: Grants, request: Request, admin: User = Depends(admin_user),
               station: Station = Depends(get_station), connections: Connections = Depends(get_connections)
               ) -> dict[str, Any]:
    """Replace the cameras a viewer may see; its live views of the others end, its event streams stop
    carrying their events."""
    unknown = [c for c in body.cameras if station.camera(c) is None]
    if unknown:
        raise HTTPException(400, f"no camera named {', '.join(unknown)}")
    current = _account_change(lambda: station.accounts.get_required(username))
    added, removed = set(body.cameras) - current.cameras, current.cameras - set(body.cameras)
    _account_change(lambda: station.accounts.grant(username, sorted(added)))
    station.accounts.revoke(username, sorted(removed))
    granted = station.accounts.get_required(username)
    from_thread.run(connections.regrant, granted)
    for action, cameras in (("grant", added), ("revoke", removed)):
        for camera in sorted(cameras):
            station.audit.record(action, username=admin.username, camera=camera, remote=remote_address(request),
                                 detail=f"user {username}")
    return user_json(granted)
