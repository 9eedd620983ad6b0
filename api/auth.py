"""Who is calling: bearer token or session cookie; which cameras they may see; login and logout."""

from __future__ import annotations

import math
from typing import Any, Protocol
from urllib.parse import urlsplit

from anyio import from_thread
from fastapi import APIRouter, Depends, HTTPException, Request, Response
from pydantic import BaseModel, Field

from api.connections import LOGGED_OUT, Connections
from api.deps import get_connections, get_station
from nvr.login_limiter import Block, LoginLimiter
from nvr.station import Station
from storage.accounts import MAX_USERNAME, AccountStore, User
from storage.audit import AuditLog

router = APIRouter(prefix="/api/auth")
COOKIE = "nvr_session"
SESSION_MS = 12 * 3_600_000  # one duty shift
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
STAFF_ROLES = ("admin", "operator")  # a post's people on duty; households are viewers
MUST_CHANGE = "change the generated password first: POST /api/users/{username}/password with the new one"
BLOCKED = {"address": "{seconds} s for this name from this address",
           "name": "{seconds} s for this name from every address it has not logged in from"}


class Credentials(BaseModel):
    username: str = Field(max_length=MAX_USERNAME)  # refused (422) before any work: no name is longer
    password: str


def remote_address(request: Request) -> str | None:
    return request.client.host if request.client else None


def _bearer_token(request: Request) -> str | None:
    scheme, _, value = request.headers.get("authorization", "").partition(" ")
    return value.strip() if scheme.lower() == "bearer" and value.strip() else None


def presented_token(request: Request) -> str | None:
    return _bearer_token(request) or request.cookies.get(COOKIE) or None


def _from_elsewhere(request: Request) -> bool:
    """A change asked with the session cookie by a page that is not the station's own (CSRF). The cookie is
    SameSite=Strict, but another port of the same host is the same site; browsers send Origin with every
    POST, PUT and DELETE (Referer when a privacy setting drops Origin)."""
    if request.method in SAFE_METHODS:
        return False
    source = request.headers.get("origin") or request.headers.get("referer") or ""
    return urlsplit(source).netloc != request.headers.get("host", "")


def _fetched_for_another_site(request: Request) -> bool:
    """Made, the browser says, by another site's page or another port of this host (`Sec-Fetch-Site`). With the
    session cookie a GET too acts in the user's name: `export.zip` starts a build, a clip is audited as theirs.
    Browsers without the header (before 2020-2023) are left to the Origin rule."""
    return request.headers.get("sec-fetch-site") in ("cross-site", "same-site")


def signed_in(request: Request, station: Station = Depends(get_station)) -> User:
    """The caller's account, also while it must change its password (see current_user)."""
    return session_user(station.accounts, request)


def session_user(accounts: AccountStore, request: Request) -> User:
    """The account of the presented token or cookie (401 without one); a change asked with the cookie must
    come from the server's own pages."""
    token = presented_token(request)
    user = accounts.user_for_token(token) if token else None
    if user is None:
        raise HTTPException(401, "log in first (missing, expired or unknown token)",
                            headers={"WWW-Authenticate": "Bearer"})
    if _bearer_token(request) is None and (_from_elsewhere(request) or _fetched_for_another_site(request)):
        raise HTTPException(403, "refused: a request with the session cookie must come from the station's own pages "
                                 "(Origin, Sec-Fetch-Site)")
    return user


def may_use(user: User) -> User:
    """`user`, who may use the station: one signed in with a generated password must change it first."""
    if user.must_change_password:
        raise HTTPException(403, MUST_CHANGE.format(username=user.username))
    return user


def is_admin(user: User) -> User:
    if user.role != "admin":
        raise HTTPException(403, "only an administrator may do this")
    return user


# The checks below read only the user: `async def`, so that FastAPI does not hand each to its thread pool
# (see api/deps.py).
async def current_user(user: User = Depends(signed_in)) -> User:
    """The caller, who may use the station: one signed in with a generated password must change it first."""
    return may_use(user)


def password_setter(username: str, user: User = Depends(signed_in)) -> User:
    """Who may set `username`'s password: an administrator, or that user while they must change it."""
    if user.must_change_password and user.username == username:
        return user
    return is_admin(may_use(user))


async def admin_user(user: User = Depends(current_user)) -> User:
    return is_admin(user)


async def staff_user(user: User = Depends(current_user)) -> User:
    """An administrator or a duty officer (operator); households (viewers) get 403."""
    if user.role not in STAFF_ROLES:
        raise HTTPException(403, "only an administrator or an operator may do this")
    return user


def visible_camera(station: Station, user: User, name: str) -> str:
    """The camera's name if it exists and `user` may see it; otherwise 404, the same for both cases."""
    if station.camera(name) is None or not user.may_see(name):
        raise HTTPException(404, f"no camera named {name!r}")
    return name


def footage_camera(station: Station, user: User, name: str) -> str:
    """A camera whose recordings `user` may read: one of the station's they may see or, for an administrator or a
    duty officer, a removed one, whose footage stays until retention takes it (a name taken again leaves the old
    camera's under `<name>~...`; `GET /api/storage` lists them). Households never see a removed camera's: the name
    may be another household's camera by now. 404 otherwise, as `visible_camera`."""
    if not may_read_footage(station, user, name):
        raise HTTPException(404, f"no camera named {name!r}")
    return name


def may_read_footage(station: Station, user: User, name: str) -> bool:
    """May `user` read camera `name`'s recordings, events and bookmarks (`footage_camera`)?"""
    if station.camera(name) is not None:
        return user.may_see(name)
    stored = station.camera_store.get(name) if user.role in STAFF_ROLES else None
    return stored is not None and stored.removed


def footage_cameras(station: Station, user: User) -> list[str]:
    """Every camera whose recordings, events and bookmarks `user` may read (`footage_camera`): the station's they may
    see and, for an administrator or a duty officer, the removed ones (their events stay evidence)."""
    names = [camera.name for camera in station.camera_list() if user.may_see(camera.name)]
    if user.role in STAFF_ROLES:
        names += [camera.name for camera in station.camera_store.all(removed=True) if camera.removed]
    return names


class LoginDesk(Protocol):
    """Where people log in: a station, or the district server (the same shared accounts)."""
    accounts: AccountStore
    audit: AuditLog
    login_limiter: LoginLimiter


def log_in(desk: LoginDesk, credentials: Credentials, request: Request, response: Response) -> dict[str, Any]:
    """Throttled per name and address, and per name (nvr/login_limiter.py); each wait is audited once."""
    name, remote = credentials.username, remote_address(request) or "unknown"
    wait = math.ceil(desk.login_limiter.retry_after(name, remote))
    if wait > 0:
        raise HTTPException(429, f"too many failed logins; try again in {wait} s", headers={"Retry-After": str(wait)})
    user = desk.accounts.verify(name, credentials.password)
    if user is None:
        desk.audit.record("login_failed", username=name, remote=remote)
        for block in desk.login_limiter.failed(name, remote):
            desk.audit.record("login_blocked", username=name, remote=remote, detail=_blocked(block))
        raise HTTPException(401, "wrong user name or password")
    desk.login_limiter.succeeded(name, remote)
    token = desk.accounts.create_token(user, SESSION_MS)
    desk.audit.record("login", username=user.username, remote=remote)
    response.set_cookie(COOKIE, token, max_age=SESSION_MS // 1000, httponly=True, samesite="strict",
                        secure=request.url.scheme == "https", path="/")
    return {"token": token, "username": user.username, "role": user.role,
            "must_change_password": user.must_change_password}


def log_out(desk: LoginDesk, user: User, request: Request, response: Response) -> str | None:
    """End the presented session (revoked, audited, its cookie dropped); returns its token."""
    token = presented_token(request)
    if token:
        desk.accounts.revoke_token(token)
    desk.audit.record("logout", username=user.username, remote=remote_address(request))
    response.delete_cookie(COOKIE, path="/")
    return token


@router.post("/login")
def login(credentials: Credentials, request: Request, response: Response,
          station: Station = Depends(get_station)) -> dict[str, Any]:
    return log_in(station, credentials, request, response)


def _blocked(block: Block) -> str:
    return BLOCKED[block.scope].format(seconds=math.ceil(block.seconds))


@router.post("/logout")
def logout(request: Request, response: Response, user: User = Depends(signed_in),
           station: Station = Depends(get_station), connections: Connections = Depends(get_connections)
           ) -> dict[str, str]:
    """End the session, and the event streams and live views opened with it (the account's other sessions
    keep theirs)."""
    token = log_out(station, user, request, response)
    if token:
        from_thread.run(connections.end_session, token, LOGGED_OUT)
    return {"status": "logged out"}


@router.get("/me")
def me(user: User = Depends(signed_in), station: Station = Depends(get_station)) -> dict[str, Any]:
    cameras = [c.name for c in station.camera_list() if user.may_see(c.name)]
    return {"username": user.username, "role": user.role, "cameras": cameras, "timezone": station.config.timezone,
            "must_change_password": user.must_change_password}
