"""Logs and metrics say what happened: one JSON access log per request, EMF metrics flushed.

Metrics leave once per request where the Lambda handler builds the app
(metrics_flush_seconds=0), and every few seconds plus at shutdown under uvicorn.
"""

from __future__ import annotations

import io
import json
import time
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from orders.observability import flush_metrics
from tests import tokens
from tests.logs import captured_logs

# An operator may do everything these tests do (tests/tokens.py).
AUTH = tokens.bearer("operator")


@pytest.fixture(autouse=True)
def no_leftover_metrics() -> None:
    """Metrics are process-wide: drop what earlier tests left before this one counts."""
    flush_metrics()


@pytest.fixture
def per_request_app(aws: dict[str, str]) -> FastAPI:
    """Built as the Lambda handler builds it: one EMF document per request."""
    from orders.app import create_app

    return create_app(metrics_flush_seconds=0)


@pytest.fixture(autouse=True)
def log_stream() -> Iterator[io.StringIO]:
    """Powertools' handler keeps the stdout it started with; point it at a buffer."""
    with captured_logs() as stream:
        yield stream


def emitted(
    capsys: pytest.CaptureFixture[str], stream: io.StringIO | None = None
) -> list[dict[str, Any]]:
    """JSON lines written since the last call: EMF (stdout) and logs (the handler's stream)."""
    text = capsys.readouterr().out
    if stream is not None:
        text += "\n" + stream.getvalue()
        stream.seek(0)
        stream.truncate()
    return [json.loads(line) for line in text.splitlines() if line.startswith("{")]


def test_access_log_and_metrics_carry_the_request(
    per_request_app: FastAPI, capsys: pytest.CaptureFixture[str], log_stream: io.StringIO
) -> None:
    client = TestClient(per_request_app, headers=AUTH)
    emitted(capsys, log_stream)
    client.post(
        "/api/orders",
        json={"customer": "acme", "product": "p", "quantity": 1},
        headers={"X-Request-Id": "req-42"},
    )
    records = emitted(capsys, log_stream)
    logs = [r for r in records if "message" in r]
    access = [r for r in logs if r["message"] == "request"]
    assert len(access) == 1
    assert access[0]["correlation_id"] == "req-42"
    assert access[0]["status"] == 201
    assert access[0]["method"] == "POST"
    created = [r for r in logs if r["message"] == "order created"]
    assert created[0]["correlation_id"] == "req-42"
    emf = [r for r in records if "_aws" in r]
    assert len(emf) == 1  # flushed once, at the end of the request
    names = {m["Name"] for m in emf[0]["_aws"]["CloudWatchMetrics"][0]["Metrics"]}
    assert {"Requests", "Latency", "OrdersCreated"} <= names
    assert emf[0]["_aws"]["CloudWatchMetrics"][0]["Namespace"] == "OrdersService"


def test_client_errors_are_counted(
    per_request_app: FastAPI, capsys: pytest.CaptureFixture[str]
) -> None:
    client = TestClient(per_request_app, headers=AUTH)
    capsys.readouterr()
    client.get(f"/api/orders/{'c' * 32}")
    emf = [r for r in emitted(capsys) if "_aws" in r]
    assert emf[0]["ClientErrors"] == [1.0]
    assert "ServerErrors" not in emf[0]


def test_correlation_ids_do_not_leak_between_requests(
    app: FastAPI, capsys: pytest.CaptureFixture[str], log_stream: io.StringIO
) -> None:
    client = TestClient(app, headers=AUTH)
    client.get("/api/health", headers={"X-Request-Id": "first"})
    emitted(capsys, log_stream)
    client.get("/api/health")
    access = [r for r in emitted(capsys, log_stream) if r.get("message") == "request"]
    assert access[0]["correlation_id"] != "first"


def test_the_server_gathers_metrics_and_flushes_them_at_shutdown(
    aws: dict[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    from orders.app import create_app

    app = create_app(metrics_flush_seconds=60)
    capsys.readouterr()
    with TestClient(app, headers=AUTH) as client:  # runs the lifespan, as uvicorn does
        for _ in range(3):
            assert client.get("/api/health").status_code == 200
        assert client.get(f"/api/orders/{'c' * 32}").status_code == 404
        # Four requests, no document yet: the interval has not passed.
        assert not [r for r in emitted(capsys) if "_aws" in r]
    # uvicorn runs the shutdown on SIGTERM (an ECS deploy): nothing gathered is lost.
    emf = [r for r in emitted(capsys) if "_aws" in r]
    assert len(emf) == 1
    assert emf[0]["Requests"] == [4.0]  # summed: the alarms and dashboard read Sum
    assert emf[0]["ClientErrors"] == [1.0]
    assert len(emf[0]["Latency"]) == 4  # kept one by one, for percentiles
    units = {m["Name"]: m["Unit"] for m in emf[0]["_aws"]["CloudWatchMetrics"][0]["Metrics"]}
    assert units == {"Requests": "Count", "ClientErrors": "Count", "Latency": "Milliseconds"}
    assert emf[0]["service"] == "orders"


def test_the_server_flushes_on_its_interval(
    aws: dict[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    from orders.app import create_app

    app = create_app(metrics_flush_seconds=0.2)
    capsys.readouterr()
    with TestClient(app, headers=AUTH) as client:
        client.get("/api/health")
        emf: list[dict[str, Any]] = []
        deadline = time.monotonic() + 5
        while not emf and time.monotonic() < deadline:
            time.sleep(0.05)
            emf = [r for r in emitted(capsys) if "_aws" in r]
        assert emf, "no EMF document within 5 s of a 0.2 s interval"
        assert emf[0]["Requests"] == [1.0]


def test_concurrent_requests_keep_their_own_correlation_id(
    app: FastAPI, log_stream: io.StringIO
) -> None:
    """Under uvicorn requests overlap; each line must name its own request, never another's."""
    import asyncio

    import httpx

    def slow(**_: object) -> None:
        time.sleep(0.2)

    app.state.container.clients.dynamodb.meta.events.register_first(
        "before-send.dynamodb.GetItem", slow
    )

    async def overlapping() -> list[int]:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(
            transport=transport, base_url="http://test", headers=AUTH
        ) as client:
            responses = await asyncio.gather(
                *(
                    client.get(f"/api/orders/{i:032x}", headers={"X-Request-Id": f"req-{i}"})
                    for i in range(5)
                )
            )
        return [r.status_code for r in responses]

    assert asyncio.run(overlapping()) == [404] * 5
    access = [
        json.loads(line)
        for line in log_stream.getvalue().splitlines()
        if '"message":"request"' in line
    ]
    assert len(access) == 5
    for line in access:
        order_number = int(line["path"].rsplit("/", 1)[1], 16)
        assert line.get("correlation_id") == f"req-{order_number}", line
