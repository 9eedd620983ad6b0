"""Who may see what on the district server. Administrators and operators see every post; a viewer sees the
cameras granted to them at the posts (`nvr user grant NAME CAMERA` on a post's box: grants name a
station's camera rows, so the shared grants table already says which station), and the posts that have one."""

from __future__ import annotations

from dataclasses import dataclass

from fastapi import Depends, HTTPException, Request

from api.auth import session_user
from nvr.district.catalog import Place
from nvr.district.state import District
from storage.accounts import User


@dataclass(frozen=True)
class DistrictUser:
    user: User
    places: frozenset[Place] | None  # the granted (station, camera); None: every camera (admin, operator)

    @property
    def username(self) -> str:
        return self.user.username

    def may_see(self, station: str, camera: str) -> bool:
        return self.places is None or (station, camera) in self.places

    def stations(self, district: District) -> list[str]:
        """The configured stations this user may see anything of, in the configuration's order."""
        return [s.id for s in district.config.stations
                if self.places is None or any(station == s.id for station, _ in self.places)]


def district_of(request: Request) -> District:
    district: District = request.app.state.district
    return district


def district_user(request: Request, district: District = Depends(district_of)) -> DistrictUser:
    """The caller by bearer token, machine key or the district's session cookie (api/auth.py's rules)."""
    user = session_user(district.accounts, request)
    if user.must_change_password:
        raise HTTPException(403, "change the generated password first (at a post)")
    if user.role in ("admin", "operator"):
        return DistrictUser(user, None)
    return DistrictUser(user, district.catalog.grants(user.id, [s.id for s in district.config.stations]))


def visible_place(district: District, user: DistrictUser, station: str, camera: str) -> None:
    """404, the same for a camera that does not exist and one the user may not see."""
    known = station in {s.id for s in district.config.stations} and user.may_see(station, camera)
    if not known or not district.catalog.has_camera(station, camera):
        raise HTTPException(404, f"no camera {camera!r} at station {station!r}")
