"""The OpenAPI schema is valid and generated requests (schemathesis) never make the server fail (5xx)."""

from __future__ import annotations

import pytest
import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from schemathesis.core.result import Ok

from api.app import create_app
from tests.conftest import OPERATOR, OPERATOR_PASSWORD, station_config, wait_for
from tests.support.media import encode_video


@pytest.fixture(scope="module")
def api_under_test(tmp_path_factory: pytest.TempPathFactory):
    from nvr.station import Station

    work = tmp_path_factory.mktemp("schema")
    video = encode_video(work / "camera.mp4", seconds=6)
    station = Station(station_config(work, [{"name": "cam0", "record_url": f"file://{video}"}]))
    station.start()
    station.accounts.add(OPERATOR, OPERATOR_PASSWORD, "operator")
    wait_for(lambda: station.index.segments("cam0", 0, 2**62), 20, "footage")
    app = create_app(station)
    token = TestClient(app).post("/api/auth/login", json={"username": OPERATOR, "password": OPERATOR_PASSWORD})
    yield app, token.json()["token"]
    station.stop()


def test_generated_requests_never_cause_server_errors(api_under_test) -> None:
    # Operations are walked here rather than with schemathesis' pytest plugin, which does not run on pytest 9.
    app, token = api_under_test
    schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    checked = []
    for result in schema.get_all_operations():
        assert isinstance(result, Ok), result
        operation = result.ok()

        @given(case=operation.as_strategy())
        @settings(max_examples=25, deadline=None, database=None, suppress_health_check=list(HealthCheck))
        def no_server_error(case) -> None:
            response = case.call(headers={"Authorization": f"Bearer {token}"})
            assert response.status_code < 500, f"{case.method} {case.formatted_path}: {response.text[:300]}"

        no_server_error()
        checked.append(operation.label)
    assert len(checked) >= 12, checked


def test_openapi_schema_is_valid(api_under_test) -> None:
    from openapi_spec_validator import validate

    app, _token = api_under_test
    document = TestClient(app).get("/openapi.json").json()
    validate(document)
    assert "/api/cameras/{name}/clip.mp4" in document["paths"]
