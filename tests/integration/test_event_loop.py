"""boto3 never blocks uvicorn's event loop: slow DynamoDB calls overlap instead of queueing."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Iterator

import httpx
import pytest
import uvicorn
from fastapi import FastAPI

from devstack.netports import free_port
from tests import tokens

DELAY = 0.5
REQUESTS = 10
AUTH = tokens.bearer("operator")


@pytest.fixture
def server(app: FastAPI) -> Iterator[str]:
    port = free_port()
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="off")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        assert time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.02)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=5)


def test_concurrent_slow_dynamodb_calls_overlap(app: FastAPI, server: str) -> None:
    # Given an order, and every DynamoDB GetItem made to take DELAY (long beside the
    # fixed per-request work: token check, throttle count, on two busy cores)
    order = httpx.post(
        f"{server}/api/orders", json={"customer": "c", "product": "p", "quantity": 1}, headers=AUTH
    ).json()

    def slow(**_: object) -> None:
        time.sleep(DELAY)

    app.state.container.clients.dynamodb.meta.events.register_first(
        "before-send.dynamodb.GetItem", slow
    )

    async def burst() -> tuple[float, list[int]]:
        async with httpx.AsyncClient(base_url=server, timeout=30, headers=AUTH) as client:
            started = time.perf_counter()
            responses = await asyncio.gather(
                *(client.get(f"/api/orders/{order['id']}") for _ in range(REQUESTS))
            )
            return time.perf_counter() - started, [r.status_code for r in responses]

    # When ten requests arrive at once
    elapsed, statuses = asyncio.run(burst())
    # Then all succeed, and together they take far less than ten calls in a row would
    assert statuses == [200] * REQUESTS
    serial = REQUESTS * DELAY
    assert elapsed < serial / 3, f"{elapsed:.2f}s for {REQUESTS} requests: the loop was blocked"


def test_health_answers_while_dynamodb_is_slow(app: FastAPI, server: str) -> None:
    """A liveness probe must not wait behind slow data calls (it never touches AWS)."""
    order = httpx.post(
        f"{server}/api/orders", json={"customer": "c", "product": "p", "quantity": 1}, headers=AUTH
    ).json()

    def slow(**_: object) -> None:
        time.sleep(1.0)

    app.state.container.clients.dynamodb.meta.events.register_first(
        "before-send.dynamodb.GetItem", slow
    )

    async def probe() -> float:
        async with httpx.AsyncClient(base_url=server, timeout=30, headers=AUTH) as client:
            slow_calls = [
                asyncio.create_task(client.get(f"/api/orders/{order['id']}")) for _ in range(5)
            ]
            await asyncio.sleep(0.1)
            started = time.perf_counter()
            health = await client.get("/api/health")
            took = time.perf_counter() - started
            assert health.status_code == 200
            await asyncio.gather(*slow_calls)
            return took

    assert asyncio.run(probe()) < 0.5
