"""Every API sample event through the Lambda handler == the same request to the ASGI app.

Each case runs the event through `orders.lambda_handler.handler` (Mangum) on the
seeded state, puts the table back to that same state, then sends the request the
event stands for straight to a fresh app with starlette's TestClient. Status,
body and the headers a client relies on must be equal. A write makes new ids and
timestamps on each run: those fields are masked after a write (see
replay.comparable_body), never on a read.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

import pytest
from fastapi.testclient import TestClient
from mangum import Mangum
from mangum.handlers import ALB, APIGateway, HTTPGateway

from tests.contract.conftest import ORDER_ID
from tests.contract.replay import (
    API_EVENT_FILES,
    API_SHAPES,
    EVENTS_DIR,
    HttpRequest,
    HttpResponse,
    comparable_body,
    comparable_location,
    event_id,
    load_event,
    request_from_event,
    response_from_lambda,
)

if TYPE_CHECKING:
    from pathlib import Path

    from fastapi import FastAPI

    from devstack.invoke import InvocationContext
    from tests.contract.conftest import World

# What each sample is for. A new sample without an entry here fails test_every_sample_is_expected.
EXPECTED_STATUS: dict[str, int] = {
    "root": 200,
    "health": 200,
    "ready": 200,
    "openapi": 200,
    "docs": 200,
    "create-order": 201,
    "create-order-idempotent": 201,
    "get-order": 200,
    "get-order-missing": 404,
    "list-orders": 200,
    "update-status": 200,
    "cancel-order": 200,
    "order-events": 200,
    "create-attachment": 201,
    "list-attachments": 200,
    "bad-json": 400,
    "bad-quantity": 422,
}
# Headers a client acts on. x-request-id differs by design (checked on its own).
KEY_HEADERS = ("content-type", "etag", "idempotent-replayed", "retry-after")
TRACE_ROOT = re.compile(r"Root=([A-Za-z0-9-]+)")


def via_lambda(event: dict[str, Any], context: InvocationContext) -> HttpResponse:
    """The event through the Lambda entry point; built once, as in a warm execution environment."""
    from orders import lambda_handler

    return response_from_lambda(lambda_handler.handler(event, context))  # type: ignore[arg-type]


def direct(app: FastAPI, request: HttpRequest) -> HttpResponse:
    """The request as uvicorn would pass it, behind a proxy that strips request.root_path."""
    headers = {
        k: v for k, v in request.headers.items() if k.lower() not in {"host", "content-length"}
    }
    host = next((v for k, v in request.headers.items() if k.lower() == "host"), "testserver")
    client = TestClient(
        app, base_url=f"https://{host}", root_path=request.root_path, raise_server_exceptions=False
    )
    url = request.path + (f"?{request.query}" if request.query else "")
    response = client.request(request.method, url, headers=headers, content=request.body or None)
    return HttpResponse(
        status=response.status_code,
        headers={k.lower(): v for k, v in response.headers.items()},
        body=response.content,
    )


def _case(path: Path) -> Any:
    return pytest.param(path, id=event_id(path))


@pytest.mark.parametrize("path", [_case(p) for p in API_EVENT_FILES])
def test_event_through_lambda_equals_direct_asgi(
    path: Path, world: World, direct_app: FastAPI, lambda_context: InvocationContext
) -> None:
    # Given the seeded state and a sample event
    event = load_event(path)
    request = request_from_event(event)
    # When it goes through the Lambda handler, and then, on the seeded state again,
    # the request it stands for goes straight to the app
    lambda_side = via_lambda(event, lambda_context)
    world.reset()
    direct_side = direct(direct_app, request)
    # Then the sample does what it is for, and a client cannot tell the two apart
    assert lambda_side.status == EXPECTED_STATUS[path.stem], lambda_side.body[:500]
    assert lambda_side.status == direct_side.status
    assert comparable_body(lambda_side, method=request.method) == comparable_body(
        direct_side, method=request.method
    )
    for name in KEY_HEADERS:
        assert lambda_side.headers.get(name) == direct_side.headers.get(name), name
    assert comparable_location(lambda_side) == comparable_location(direct_side)
    # And the correlation id is the gateway's request id, or the ALB's trace root
    # (the ALB has none); the direct call, with no gateway, falls back to the trace root.
    trace = next(v for k, v in request.headers.items() if k.lower() == "x-amzn-trace-id")
    trace_root = TRACE_ROOT.search(trace)
    assert trace_root is not None
    gateway_id = event["requestContext"].get("requestId", trace_root.group(1))
    assert lambda_side.headers["x-request-id"] == gateway_id
    assert direct_side.headers["x-request-id"] == trace_root.group(1)


def test_rest_api_stage_prefixes_the_docs_and_links(
    world: World, lambda_context: InvocationContext
) -> None:
    # Given REST API events under the stage "prod" (public URLs start /prod/api)
    docs = via_lambda(load_event(EVENTS_DIR / "apigw-v1/docs.json"), lambda_context)
    root = via_lambda(load_event(EVENTS_DIR / "apigw-v1/root.json"), lambda_context)
    created = via_lambda(load_event(EVENTS_DIR / "apigw-v1/create-order.json"), lambda_context)
    # Then what the app links to carries the stage
    assert "'/prod/api/openapi.json'" in docs.body.decode()
    assert root.json()["links"]["openapi"] == "/prod/api/openapi.json"
    assert created.headers["location"] == f"/prod/api/orders/{created.json()['id']}"


def test_http_api_default_stage_adds_no_prefix(
    world: World, lambda_context: InvocationContext
) -> None:
    docs = via_lambda(load_event(EVENTS_DIR / "apigw-v2/docs.json"), lambda_context)
    assert "'/api/openapi.json'" in docs.body.decode()
    assert "/$default/" not in docs.body.decode()


def test_every_sample_is_expected() -> None:
    for shape in API_SHAPES:
        names = {p.stem for p in (EVENTS_DIR / shape).glob("*.json")}
        assert names == set(EXPECTED_STATUS), shape


MANGUM_HANDLER = {"apigw-v2": HTTPGateway, "apigw-v1": APIGateway, "alb": ALB}


@pytest.mark.parametrize("path", API_EVENT_FILES, ids=event_id)
def test_mangum_reads_each_shape_with_its_handler(
    path: Path, lambda_context: InvocationContext
) -> None:
    async def app(scope: Any, receive: Any, send: Any) -> None:  # never called
        raise AssertionError

    handler = Mangum(app, lifespan="off").infer(load_event(path), lambda_context)  # type: ignore[arg-type]
    assert type(handler) is MANGUM_HANDLER[path.parent.name]


def test_samples_cover_every_operation(direct_app: FastAPI) -> None:
    """Each path and method of the OpenAPI document has a sample in every shape."""
    operations = {
        (method.upper(), re.compile("^" + re.sub(r"\{[^}]+\}", "[^/]+", route) + "$"))
        for route, methods in direct_app.openapi()["paths"].items()
        for method in methods
    }
    for shape in API_SHAPES:
        requests = [request_from_event(load_event(p)) for p in (EVENTS_DIR / shape).glob("*.json")]
        sent = {(r.method, r.path.removeprefix(r.root_path)) for r in requests}
        for method, pattern in operations:
            assert any(m == method and pattern.match(p) for m, p in sent), (shape, method, pattern)
    assert ORDER_ID in (EVENTS_DIR / "apigw-v2/get-order.json").read_text()
