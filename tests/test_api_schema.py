"""The OpenAPI schema is valid and generated requests (schemathesis), as an admin, an operator and a viewer,
never make the server fail (5xx)."""

from __future__ import annotations

import os
from typing import Any

import pytest
import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from schemathesis.core.result import Ok

from api.app import create_app
from tests.conftest import OPERATOR, OPERATOR_PASSWORD, station_config, wait_for
from tests.support.media import encode_video

ROLES = ("viewer", "operator", "admin")  # the admin last: its generated requests change accounts and cameras


@pytest.fixture(scope="module")
def api_under_test(tmp_path_factory: pytest.TempPathFactory):
    from nvr.station import Station

    work = tmp_path_factory.mktemp("schema")
    video = encode_video(work / "camera.mp4", seconds=6)
    station = Station(station_config(work, [{"name": "cam0", "record_url": f"file://{video}"}]))
    station.start()
    station.accounts.add(OPERATOR, OPERATOR_PASSWORD, "operator")
    station.accounts.add("nha-so-5", "household-pass", "viewer")
    station.accounts.grant("nha-so-5", ["cam0"])
    wait_for(lambda: station.index.segments("cam0", 0, 2**62), 20, "footage")
    app = create_app(station)
    client = TestClient(app)
    logins = {"viewer": ("nha-so-5", "household-pass"), "operator": (OPERATOR, OPERATOR_PASSWORD),
              "admin": ("admin", os.environ["NVR_ADMIN_PASSWORD"])}
    tokens = {role: client.post("/api/auth/login", json={"username": name, "password": password}).json()["token"]
              for role, (name, password) in logins.items()}
    yield app, tokens
    station.stop()


def test_generated_requests_never_cause_server_errors(api_under_test) -> None:
    # Operations are walked here rather than with schemathesis' pytest plugin, which does not run on pytest 9.
    app, tokens = api_under_test
    checked = []
    for role in ROLES:
        headers = {"Authorization": f"Bearer {tokens[role]}"}
        schema = schemathesis.openapi.from_asgi("/openapi.json", app, headers=headers)  # for logged-in users only
        for result in schema.get_all_operations():
            assert isinstance(result, Ok), result
            no_server_error(result.ok(), role, headers)
            checked.append((role, result.ok().label))
    assert len(checked) >= 3 * 12, checked


def no_server_error(operation: Any, role: str, headers: dict[str, str]) -> None:
    @given(case=operation.as_strategy())
    @settings(max_examples=12, deadline=None, database=None, suppress_health_check=list(HealthCheck))
    def check(case) -> None:
        response = case.call(headers=headers)
        assert response.status_code < 500, f"{role}: {case.method} {case.formatted_path}: {response.text[:300]}"

    check()


def test_openapi_schema_is_valid_and_only_for_logged_in_users(api_under_test) -> None:
    from openapi_spec_validator import validate

    app, _tokens = api_under_test
    client = TestClient(app)
    assert client.get("/openapi.json").status_code == 401
    # a user and token of its own: the generated requests above may have changed the others' passwords, and
    # their failed logins have this client's address blocked
    accounts = app.state.station.accounts
    accounts.add("schema-reader", "schema-reader-pass", "viewer")
    token = accounts.create_token(accounts.verify("schema-reader", "schema-reader-pass"), 60_000)
    document = client.get("/openapi.json", headers={"Authorization": f"Bearer {token}"}).json()
    validate(document)
    assert "/api/cameras/{name}/clip.mp4" in document["paths"]
