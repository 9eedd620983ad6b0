"""The catalog not answering is a 503 at the station and at the district (api/catalog_away.py). The station's
outage itself, with a real PostgreSQL stopped, is tests/test_catalog_outage.py."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any, cast

from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy.exc import OperationalError

from api.catalog_away import answer_catalog_away
from nvr.district.app import CATALOG_AWAY, create_district_app
from nvr.district.state import District


def test_a_route_the_catalog_does_not_answer_is_a_503_to_try_again() -> None:
    app = FastAPI()
    answer_catalog_away(app, CATALOG_AWAY)

    @app.get("/cases")
    def cases() -> None:
        raise OperationalError("SELECT", {}, ConnectionRefusedError())

    answer = TestClient(app).get("/cases")
    assert (answer.status_code, answer.headers["retry-after"], answer.json()) == (503, "5", {"detail": CATALOG_AWAY})


def test_a_catalog_on_a_full_disk_is_said_to_be_full_not_away() -> None:
    """A disk full of locked footage: the catalog answers but cannot write (a login's session). "Does not answer"
    sent the officer after the network instead of the disk."""
    import sqlite3

    from api.catalog_away import CATALOG_DISK_FULL

    app = FastAPI()
    answer_catalog_away(app, CATALOG_AWAY)

    @app.post("/login")
    def login() -> None:
        raise OperationalError("INSERT", {}, sqlite3.OperationalError("database or disk is full"))

    answer = TestClient(app).post("/login")
    assert (answer.status_code, answer.json()) == (503, {"detail": CATALOG_DISK_FULL})
    assert "disk under it is full" in CATALOG_DISK_FULL


def test_the_district_answers_so_too() -> None:
    nothing = cast(Any, None)
    district = District(cast(Any, SimpleNamespace(timezone="Asia/Ho_Chi_Minh")), nothing, nothing, nothing, None,
                        nothing)
    assert OperationalError in create_district_app(district).exception_handlers
