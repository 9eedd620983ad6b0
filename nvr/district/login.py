"""Login and logout at the district with the shared catalog's accounts: the post's routes (api/auth.py), its
cookie and its throttle, audited in the district's rows."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request, Response

from api.auth import Credentials, log_in, log_out, session_user
from nvr.district.access import DistrictUser, district_of, district_user
from nvr.district.state import District

router = APIRouter(prefix="/api/auth")


@router.post("/login")
def login(credentials: Credentials, request: Request, response: Response,
          district: District = Depends(district_of)) -> dict[str, Any]:
    return log_in(district, credentials, request, response)


@router.post("/logout")
def logout(request: Request, response: Response, district: District = Depends(district_of)) -> dict[str, str]:
    log_out(district, session_user(district.accounts, request), request, response)
    return {"status": "logged out"}


@router.get("/me")
def me(user: DistrictUser = Depends(district_user), district: District = Depends(district_of)) -> dict[str, Any]:
    return {"username": user.username, "role": user.user.role, "stations": user.stations(district),
            "timezone": district.config.timezone}
