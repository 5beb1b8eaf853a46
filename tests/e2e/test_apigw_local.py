"""The Lambda entry's HTTP API emulation (devstack.apigw_local), in-process with real workers.

The functions the execution environments run are small: the request echoed back
through the real Mangum adapter, one that raises, one whose process dies. The real
orders handler behind it is driven by the switch drill.
"""

from __future__ import annotations

import base64
import json
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from mangum import Mangum
from starlette.applications import Starlette
from starlette.responses import Response
from starlette.routing import Route
from starlette.testclient import TestClient

from devstack.apigw_local import LocalHttpApi, build_event, create_app, route_for, to_http
from devstack.invoke import TIMEOUT_SECONDS
from tests.infra.cfn import ROOT_TEMPLATE, load

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

    from starlette.requests import Request

pytestmark = pytest.mark.e2e

SAMPLES = Path(__file__).resolve().parents[2] / "events" / "apigw-v2"
BINARY = bytes(range(256))


async def _echo(request: Request) -> Response:
    body = await request.body()
    payload = {
        "method": request.method,
        "path": request.url.path,
        "query": request.url.query,
        "headers": dict(request.headers),
        "body": base64.b64encode(body).decode(),
    }
    if request.headers.get("x-binary"):
        response = Response(BINARY, status_code=200, media_type="application/octet-stream")
    else:
        response = Response(json.dumps(payload), status_code=207, media_type="application/json")
    response.headers.append("set-cookie", "a=1")
    response.headers.append("set-cookie", "b=2")
    response.headers["etag"] = '"5"'
    return response


_mangum = Mangum(
    Starlette(routes=[Route("/{path:path}", _echo, methods=["GET", "POST", "PUT"])]),
    lifespan="off",
)


def echo_function(event: dict[str, Any], _function_name: str) -> Any:
    """Runs in a worker: the event through Mangum, plus the event itself for the test."""
    return _mangum(event, None)  # type: ignore[arg-type]


def failing_function(event: dict[str, Any], _function_name: str) -> Any:
    if event["rawPath"] == "/api/raise":
        raise RuntimeError("the function failed")
    if event["rawPath"] == "/api/die":
        os._exit(137)
    return _mangum(event, None)  # type: ignore[arg-type]


def client_for(function: Callable[[dict[str, Any], str], Any]) -> Iterator[TestClient]:
    api = LocalHttpApi(port=8123, environments=1, timeout=20, invoke=function)
    with TestClient(create_app(api), base_url="http://orders.local") as client:
        yield client


@pytest.fixture(scope="module")
def echo() -> Iterator[TestClient]:
    yield from client_for(echo_function)


def test_the_routes_and_the_timeout_are_the_templates() -> None:
    template = load(ROOT_TEMPLATE)
    events = template["Resources"]["ApiFunction"]["Properties"]["Events"]
    routes = {
        (e["Properties"]["Method"], e["Properties"]["Path"])
        for e in events.values()
        if e["Type"] == "HttpApi"
    }
    assert len(routes) >= 3
    for method, path in routes:
        concrete = path.replace("{proxy+}", "orders/1")
        route = route_for("GET" if method == "ANY" else method, concrete)
        assert route is not None
        assert route[0] == f"{method} {path}"
    # Only a GET takes a public route; any other method goes to the authorized proxy.
    assert route_for("POST", "/api/health") == ("ANY /api/{proxy+}", {"proxy": "health"})
    assert route_for("GET", "/docs") is None
    assert route_for("GET", "/api/") is None
    assert template["Parameters"]["ApiTimeoutSeconds"]["Default"] == TIMEOUT_SECONDS


def test_a_request_becomes_the_event_http_api_sends_for_the_templates_route() -> None:
    sample = json.loads((SAMPLES / "create-order-idempotent.json").read_text())
    body = base64.b64decode(sample["body"])

    event = build_event(
        method="POST",
        raw_path="/api/orders",
        raw_query="status=pending&tag=a&tag=b",
        headers=[
            ("Content-Type", "application/json"),
            ("Idempotency-Key", "k-1"),
            ("Host", "orders.local:8000"),
            ("Cookie", "s=1; t=2"),
            ("X-Many", "1"),
            ("X-Many", "2"),
        ],
        body=body,
        source_ip="127.0.0.1",
        port=8000,
        request_id="rid",
        now=1767323045.0,
    )

    assert event is not None
    # The shape of a real payload 2.0 event (the committed sample), plus the query parts
    assert set(sample) <= set(event)
    # less the JWT authorizer's context: the local entry runs no authorizer (the app checks
    # every token itself, on every target), so its events carry none (README).
    assert set(sample["requestContext"]) - {"authorizer"} == set(event["requestContext"])
    assert set(sample["requestContext"]["http"]) == set(event["requestContext"]["http"])
    assert event["routeKey"] == sample["routeKey"] == "ANY /api/{proxy+}"
    assert event["pathParameters"] == sample["pathParameters"] == {"proxy": "orders"}
    assert event["queryStringParameters"] == {"status": "pending", "tag": "a,b"}
    assert event["rawQueryString"] == "status=pending&tag=a&tag=b"
    # Names lower-cased, repeats joined, cookies on their own, API Gateway's headers added
    assert event["headers"]["idempotency-key"] == "k-1"
    assert event["headers"]["x-many"] == "1,2"
    assert "cookie" not in event["headers"]
    assert event["cookies"] == ["s=1", "t=2"]
    assert event["headers"]["x-forwarded-for"] == "127.0.0.1"
    assert event["headers"]["x-amzn-trace-id"].startswith("Root=1-695735a5-")
    assert event["requestContext"]["domainName"] == "orders.local:8000"
    assert event["requestContext"]["time"] == "02/Jan/2026:03:04:05 +0000"
    assert base64.b64decode(event["body"]) == body
    assert event["isBase64Encoded"] is True


@pytest.mark.parametrize(
    ("path", "route_key"), [("/api", "ANY /api"), ("/api/orders/1/status", "ANY /api/{proxy+}")]
)
def test_both_of_the_templates_routes_are_served(path: str, route_key: str) -> None:
    event = build_event(
        method="GET",
        raw_path=path,
        raw_query="",
        headers=[],
        body=b"",
        source_ip="127.0.0.1",
        port=1,
        request_id="r",
        now=0.0,
    )
    assert event is not None
    assert event["routeKey"] == route_key
    assert "body" not in event


def test_a_result_without_status_code_is_200_json_as_payload_2_0_says() -> None:
    assert to_http({"ok": True}) == (200, [("content-type", "application/json")], b'{"ok": true}')


def test_the_function_sees_the_request_and_the_client_gets_its_response(
    echo: TestClient,
) -> None:
    response = echo.put(
        "/api/orders/o1/status?x=1",
        content=b'{"status": "confirmed"}',
        headers={"If-Match": '"4"', "Idempotency-Key": "k-9", "Content-Type": "application/json"},
    )

    assert response.status_code == 207
    seen = response.json()
    assert seen["method"] == "PUT"
    assert seen["path"] == "/api/orders/o1/status"
    assert seen["query"] == "x=1"
    assert seen["headers"]["if-match"] == '"4"'
    assert seen["headers"]["idempotency-key"] == "k-9"
    assert base64.b64decode(seen["body"]) == b'{"status": "confirmed"}'
    assert response.headers.get_list("set-cookie") == ["a=1", "b=2"]
    assert response.headers["etag"] == '"5"'
    assert response.headers["apigw-requestid"]
    assert "server" not in response.headers


def test_a_binary_body_comes_back_byte_for_byte(echo: TestClient) -> None:
    response = echo.get("/api/file", headers={"x-binary": "1"})
    assert response.status_code == 200
    assert response.content == BINARY
    assert response.headers["content-length"] == str(len(BINARY))


def test_a_path_outside_the_routes_is_api_gateways_404(echo: TestClient) -> None:
    response = echo.get("/docs")
    assert response.status_code == 404
    assert response.json() == {"message": "Not Found"}


def test_a_failing_function_is_a_500_and_a_dead_environment_is_replaced() -> None:
    for client in client_for(failing_function):
        raised = client.get("/api/raise")
        assert raised.status_code == 500
        assert raised.json() == {"message": "Internal Server Error"}

        died = client.get("/api/die")
        assert died.status_code == 500
        assert died.json() == {"message": "Internal Server Error"}

        # The next event gets a fresh environment
        after = client.get("/api/fine")
        assert after.status_code == 207
        assert after.json()["path"] == "/api/fine"
