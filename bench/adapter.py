"""Warm requests through the Lambda adapter vs the same request as a raw ASGI call.

Run as its own process (`python -m bench.adapter`): moto in-process, the data plane
created, one order stored. Then, interleaved round by round, K calls of
`handler(event, context)` (Mangum, as Lambda calls it) and K raw ASGI calls into an app
built the same way, for GET /api/orders/{id} and GET /api/health; the figure is the
median over rounds of the mean time per request. Log lines go to /dev/null for both.
"""

from __future__ import annotations

import argparse
import asyncio
import copy
import json
import os
import sys
import time
from typing import TYPE_CHECKING, Any

from bench.common import EVENTS, Result, emit, in_process_service, median, rounds
from devstack.invoke import InvocationContext

if TYPE_CHECKING:
    from collections.abc import Callable

    from aws_lambda_powertools.utilities.typing import LambdaContext

# Requests per round: moto in-process makes a GetItem cost ~10 ms, health ~1 ms.
PER_ROUND = {"GET /api/orders/{id}": 25, "GET /api/health": 250}
PER_ROUND_QUICK = 3


def v2_event(name: str, path: str) -> dict[str, Any]:
    event: dict[str, Any] = copy.deepcopy(json.loads((EVENTS / "apigw-v2" / name).read_text()))
    event["rawPath"] = path
    event["requestContext"]["http"]["path"] = path
    return event


def asgi_scope(event: dict[str, Any]) -> dict[str, Any]:
    """The scope uvicorn would give the app for the same request."""
    return {
        "type": "http",
        "asgi": {"version": "3.0", "spec_version": "2.3"},
        "http_version": "1.1",
        "method": event["requestContext"]["http"]["method"],
        "scheme": "https",
        "path": event["rawPath"],
        "raw_path": event["rawPath"].encode(),
        "query_string": event["rawQueryString"].encode(),
        "root_path": "",
        "headers": [(k.encode(), v.encode()) for k, v in event["headers"].items()],
        "client": ("198.51.100.7", 443),
        "server": ("a1b2c3d4e5.execute-api.us-east-1.amazonaws.com", 443),
    }


def raw_caller(app: Any, scope: dict[str, Any]) -> Any:
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    def call() -> int:
        status = 0

        async def send(message: dict[str, Any]) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]

        loop.run_until_complete(app(dict(scope), receive, send))
        return status

    return call


def per_request(call: Any, k: int) -> float:
    started = time.perf_counter()
    for _ in range(k):
        call()
    return (time.perf_counter() - started) / k


def measure(quick: bool) -> list[Result]:
    with in_process_service():
        from orders import lambda_handler
        from orders.app import create_app

        create = v2_event("create-order.json", "/api/orders")
        created = lambda_handler.handler(create, InvocationContext(function_name="orders-api"))  # type: ignore[arg-type]
        assert created["statusCode"] == 201, created
        order_id = json.loads(created["body"])["id"]
        # The app exactly as the Lambda handler builds it (metrics flushed per request,
        # X-Ray left to Powertools), so the ratio is Mangum's cost and nothing else.
        app = create_app(trace_requests=False, metrics_flush_seconds=0)
        cases = {
            "GET /api/orders/{id}": v2_event("get-order.json", f"/api/orders/{order_id}"),
            "GET /api/health": v2_event("health.json", "/api/health"),
        }
        n = rounds(quick, 10)
        results = []
        for label, event in cases.items():
            k = PER_ROUND_QUICK if quick else PER_ROUND[label]
            results.append(_mangum_over_raw(label, event, app, lambda_handler.handler, k, n))
        return results


def _mangum_over_raw(
    label: str,
    event: dict[str, Any],
    app: Any,
    handler: Callable[[dict[str, Any], LambdaContext], dict[str, Any]],
    k: int,
    n: int,
) -> Result:
    """One request's row: n rounds of k calls each way, the order alternating by round."""
    raw = raw_caller(app, asgi_scope(event))
    context = InvocationContext(function_name="orders-api")

    def via_mangum() -> int:
        return int(handler(event, context)["statusCode"])  # type: ignore[arg-type]

    assert via_mangum() == 200, label
    assert raw() == 200, label
    for _ in range(k):  # warm both paths
        via_mangum()
        raw()
    mangum_s: list[float] = []
    raw_s: list[float] = []
    for i in range(n):
        pair = [(mangum_s, via_mangum), (raw_s, raw)]
        for sink, call in pair if i % 2 == 0 else pair[::-1]:
            sink.append(per_request(call, k))
    return Result(
        f"warm {label}: Mangum handler / raw ASGI",
        median(mangum_s),
        median(raw_s),
        1.3,
        "<=",
        unit="s/request",
        note=f"in-process, moto in-process; {k} requests x {n} rounds",
        samples=n,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    # The service logs a JSON line per request: keep it off the result line.
    real_stdout = os.dup(1)
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 1)
    try:
        results = measure(args.quick)
    finally:
        sys.stdout.flush()
        os.dup2(real_stdout, 1)
    emit(results)


if __name__ == "__main__":
    main()
