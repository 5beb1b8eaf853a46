"""Logs and metrics say what happened: one JSON access log per request, EMF metrics flushed."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from orders.observability import logger


@pytest.fixture(autouse=True)
def log_stream() -> Iterator[io.StringIO]:
    """Powertools' handler keeps the stdout it started with; point it at a buffer."""
    stream = io.StringIO()
    old = logger.registered_handler.setStream(stream)  # type: ignore[attr-defined]
    yield stream
    logger.registered_handler.setStream(old)  # type: ignore[attr-defined]


def emitted(capsys: pytest.CaptureFixture[str], stream: io.StringIO | None = None) -> list[dict]:
    """JSON lines written since the last call: EMF (stdout) and logs (the handler's stream)."""
    text = capsys.readouterr().out
    if stream is not None:
        text += "\n" + stream.getvalue()
        stream.seek(0)
        stream.truncate()
    return [json.loads(line) for line in text.splitlines() if line.startswith("{")]


def test_access_log_and_metrics_carry_the_request(app, capsys, log_stream) -> None:  # type: ignore[no-untyped-def]
    client = TestClient(app)
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


def test_client_errors_are_counted(app, capsys: pytest.CaptureFixture[str]) -> None:  # type: ignore[no-untyped-def]
    client = TestClient(app)
    capsys.readouterr()
    client.get(f"/api/orders/{'c' * 32}")
    emf = [r for r in emitted(capsys) if "_aws" in r]
    assert emf[0]["ClientErrors"] == [1.0]
    assert "ServerErrors" not in emf[0]


def test_correlation_ids_do_not_leak_between_requests(app, capsys, log_stream) -> None:  # type: ignore[no-untyped-def]
    client = TestClient(app)
    client.get("/api/health", headers={"X-Request-Id": "first"})
    emitted(capsys, log_stream)
    client.get("/api/health")
    access = [r for r in emitted(capsys, log_stream) if r.get("message") == "request"]
    assert access[0]["correlation_id"] != "first"
