"""The request body policy as a plain ASGI app: what it reads, and when it stops."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest
from starlette.types import Message

from orders.api.body import RequestBodyMiddleware, is_json

LIMIT = 64 * 1024
HEADER_LIMIT = 8 * 1024
CHUNK = 16 * 1024


class Downstream:
    """The app behind the policy: records the body it was given."""

    def __init__(self) -> None:
        self.bodies: list[bytes] = []

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        message = await receive()
        self.bodies.append(message["body"])
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"ok"})


def scope(headers: dict[str, str], method: str = "POST") -> dict[str, Any]:
    return {
        "type": "http",
        "method": method,
        "path": "/api/orders",
        "headers": [(k.encode(), v.encode()) for k, v in headers.items()],
    }


def run(
    headers: dict[str, str], receive: Any, *, timeout: float = 5.0, method: str = "POST"
) -> tuple[int, dict[str, str], dict[str, Any] | None, Downstream]:
    app = Downstream()
    policy = RequestBodyMiddleware(
        app, max_bytes=LIMIT, timeout_seconds=timeout, max_header_bytes=HEADER_LIMIT
    )
    sent: list[Message] = []

    async def send(message: Message) -> None:
        sent.append(message)

    asyncio.run(policy(scope(headers, method), receive, send))
    start = sent[0]
    response_headers = {k.decode(): v.decode() for k, v in start["headers"]}
    body = b"".join(m.get("body", b"") for m in sent[1:])
    problem = (
        json.loads(body) if response_headers.get("content-type", "").endswith("json") else None
    )
    return start["status"], response_headers, problem, app


def test_a_declared_length_over_the_limit_is_413_without_reading_a_byte() -> None:
    async def receive() -> dict[str, Any]:
        raise AssertionError("the body was read")

    status, headers, problem, app = run(
        {"content-type": "application/json", "content-length": str(200 * 1024 * 1024)}, receive
    )
    assert status == 413
    assert headers["content-type"] == "application/problem+json"
    assert headers["connection"] == "close"
    assert problem is not None
    assert problem["type"] == "urn:orders:problem:payload-too-large"
    assert problem["max_bytes"] == LIMIT
    assert app.bodies == []


def test_an_undeclared_body_is_counted_and_stopped_at_the_limit() -> None:
    reads = 0

    async def endless() -> dict[str, Any]:
        nonlocal reads
        reads += 1
        return {"type": "http.request", "body": b"x" * CHUNK, "more_body": True}

    status, _, problem, app = run({"content-type": "application/json"}, endless)
    assert status == 413
    assert problem is not None
    assert problem["type"] == "urn:orders:problem:payload-too-large"
    assert reads == LIMIT // CHUNK + 1  # stopped at the first chunk past the limit
    assert app.bodies == []


def test_a_body_that_stops_arriving_is_408() -> None:
    calls = 0

    async def stalls() -> dict[str, Any]:
        nonlocal calls
        calls += 1
        if calls == 1:
            return {"type": "http.request", "body": b'{"cust', "more_body": True}
        await asyncio.sleep(60)
        raise AssertionError("not reached")

    status, headers, problem, app = run({"content-type": "application/json"}, stalls, timeout=0.2)
    assert status == 408
    assert headers["connection"] == "close"
    assert problem is not None
    assert problem["type"] == "urn:orders:problem:request-timeout"
    assert app.bodies == []


def test_a_body_within_the_limits_reaches_the_app_whole() -> None:
    parts = [b'{"customer": ', b'"acme"}']

    async def receive() -> dict[str, Any]:
        part = parts.pop(0)
        return {"type": "http.request", "body": part, "more_body": bool(parts)}

    status, _, _, app = run({"content-length": "20"}, receive)
    assert status == 200
    assert app.bodies == [b'{"customer": "acme"}']


def test_a_declared_non_json_body_is_415_without_reading_it() -> None:
    async def receive() -> dict[str, Any]:
        raise AssertionError("the body was read")

    status, _, problem, _ = run(
        {"content-type": "application/x-www-form-urlencoded", "content-length": "9"}, receive
    )
    assert status == 415
    assert problem is not None
    assert problem["expected"] == "application/json"


@pytest.mark.parametrize("method", ["GET", "HEAD", "OPTIONS", "DELETE"])
def test_requests_without_a_body_to_read_pass_straight_through(method: str) -> None:
    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    status, _, _, app = run({"content-length": str(10 * LIMIT)}, receive, method=method)
    assert status == 200
    assert app.bodies == [b""]


@pytest.mark.parametrize(
    ("content_type", "expected"),
    [
        ("application/json", True),
        ("Application/JSON; charset=utf-8", True),
        ("application/problem+json", True),
        ("text/json", False),
        ("application/x-www-form-urlencoded", False),
        ("multipart/form-data; boundary=x", False),
    ],
)
def test_is_json(content_type: str, expected: bool) -> None:
    assert is_json(content_type) is expected


@pytest.mark.parametrize("method", ["GET", "POST"])
def test_headers_over_the_limit_are_431_on_every_method(method: str) -> None:
    async def receive() -> dict[str, Any]:
        raise AssertionError("the body was read")

    status, headers, problem, app = run(
        {"content-type": "application/json", "x-pad": "a" * HEADER_LIMIT}, receive, method=method
    )
    assert status == 431
    assert headers["content-type"] == "application/problem+json"
    assert problem is not None
    assert problem["type"] == "urn:orders:problem:request-header-fields-too-large"
    assert problem["max_header_bytes"] == HEADER_LIMIT
    assert app.bodies == []


def test_headers_just_under_the_limit_pass() -> None:
    body = b"{}"

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": body, "more_body": False}

    # "x-pad" + ": " + CRLF and the two other headers, as the policy counts them.
    others = len("content-type") + len("application/json") + 4 + len("content-length") + 1 + 4
    pad = HEADER_LIMIT - others - len("x-pad") - 4
    status, _, _, app = run(
        {"content-type": "application/json", "content-length": "2", "x-pad": "a" * pad}, receive
    )
    assert status == 200
    assert app.bodies == [body]
