"""/api/health answers a body made once, through every middleware, as the app's own route.

routes_meta adds the meta routes to the app's router (not an included router) and answers
/health with prebuilt bytes: neither may change what a client or the OpenAPI document sees.
"""

from __future__ import annotations

import io
import json
from typing import TYPE_CHECKING, Any

import pytest
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient

from orders.api.models import Health
from orders.api.routes_meta import HEALTHY
from orders.app import API_PREFIX, create_app
from tests.fakes import Fakes
from tests.logs import captured_logs

if TYPE_CHECKING:
    from collections.abc import Iterator

    from fastapi import FastAPI

# The health operation as the document had it while FastAPI serialized a Health model from
# an included router (the commit before this one), written out.
HEALTH_OPERATION: dict[str, Any] = {
    "get": {
        "tags": ["meta"],
        "summary": "Liveness: the process answers; no dependency is called",
        "operationId": "health_api_health_get",
        "responses": {
            "200": {
                "description": "Successful Response",
                "content": {
                    "application/json": {"schema": {"$ref": "#/components/schemas/Health"}}
                },
            },
            "500": {
                "description": "Internal Server Error",
                "content": {
                    "application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}
                },
            },
        },
    }
}


@pytest.fixture
def app(fakes: Fakes) -> FastAPI:
    return create_app(fakes.container(), trace_requests=False)


@pytest.fixture
def lines() -> Iterator[io.StringIO]:
    with captured_logs() as stream:
        yield stream


def test_the_health_operation_in_the_document_is_unchanged(app: FastAPI) -> None:
    document = TestClient(app).get(f"{API_PREFIX}/openapi.json").json()
    assert document["paths"][f"{API_PREFIX}/health"] == HEALTH_OPERATION
    assert document["components"]["schemas"]["Health"] == Health.model_json_schema()
    # The meta routes keep their place: first in the document, as when they were included.
    assert list(document["paths"])[:3] == [
        API_PREFIX,
        f"{API_PREFIX}/health",
        f"{API_PREFIX}/ready",
    ]


def test_health_answers_the_models_json_through_the_middlewares(
    app: FastAPI, lines: io.StringIO
) -> None:
    answer = TestClient(app).get(f"{API_PREFIX}/health", headers={"X-Request-Id": "lb-1"})
    assert answer.status_code == 200
    assert answer.headers["content-type"] == "application/json"
    assert Health.model_validate_json(answer.content) == Health(status="ok")
    assert answer.content == HEALTHY
    # The observability middleware ran: the id echoed, one access line for the request.
    assert answer.headers["x-request-id"] == "lb-1"
    [access] = [json.loads(line) for line in lines.getvalue().splitlines()]
    assert (access["message"], access["path"], access["status"]) == (
        "request",
        f"{API_PREFIX}/health",
        200,
    )
    assert access["correlation_id"] == "lb-1"


def test_health_is_the_apps_own_route_and_the_others_keep_their_names(app: FastAPI) -> None:
    own = {route.name for route in app.router.routes if isinstance(route, APIRoute)}
    assert {"root", "health", "ready"} <= own
    assert app.url_path_for("health") == f"{API_PREFIX}/health"
    assert app.url_path_for("list_orders") == f"{API_PREFIX}/orders"


def test_health_refuses_other_methods_as_a_problem(app: FastAPI) -> None:
    answer = TestClient(app).post(f"{API_PREFIX}/health")
    assert answer.status_code == 405
    assert answer.headers["content-type"] == "application/problem+json"
