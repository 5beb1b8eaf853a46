"""In-process GET /api/health, no server: our app's ASGI stack / the bare FastAPI hello.

Each app is called directly with the scope a server would give it (granian's headers from
wrk), in one process, batches interleaved; the figure is the median CPU time (process time,
so a busy machine's waits are left out) per request. It separates the app's cost from the
server's: the throughput step's ratio is (server + app) / (server + bare app).

Our app is built as the container builds it (metrics flushed periodically, tracing off)
against moto in-process; /api/health calls no dependency. Besides the whole stack it is
measured without its middlewares (FastAPI and our routes alone) and without each one, so
the rows say what each piece costs per request.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import time
from typing import TYPE_CHECKING, Any

from bench.common import Result, in_process_service, median, rounds
from bench.processes import step_main

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable

    App = Callable[[dict[str, Any], Any, Any], Awaitable[None]]

BATCH = 1000
HEADERS = [(b"host", b"127.0.0.1:8000"), (b"user-agent", b"wrk"), (b"accept", b"*/*")]
OBSERVABILITY, BODY = "ObservabilityMiddleware", "RequestBodyMiddleware"


def scope() -> dict[str, Any]:
    return {
        "type": "http",
        "asgi": {"version": "3.0", "spec_version": "2.3"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": "/api/health",
        "raw_path": b"/api/health",
        "query_string": b"",
        "root_path": "",
        "headers": list(HEADERS),
        "client": ("127.0.0.1", 50000),
        "server": ("127.0.0.1", 8000),
        "state": {},
    }


async def per_request(app: App, n: int) -> float:
    """CPU seconds per request over n requests, each answered 200."""
    statuses: list[int] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start":
            statuses.append(message["status"])

    started = time.process_time()
    for _ in range(n):
        await app(scope(), receive, send)
    took = time.process_time() - started
    if statuses != [200] * n:
        raise RuntimeError(f"GET /api/health answered {sorted(set(statuses))}")
    return took / n


def apps() -> dict[str, Any]:
    """Ours whole, ours without each middleware and without any, and the bare hello."""
    from bench.baselines.hello import create_app as hello
    from orders.app import create_app

    def ours(*dropped: str) -> Any:
        app = create_app(trace_requests=False, metrics_flush_seconds=10)
        # The stack is built on the first call, from this list.
        app.user_middleware = [
            m for m in app.user_middleware if getattr(m.cls, "__name__", "") not in dropped
        ]
        return app

    return {
        "ours": ours(),
        "no observability": ours(OBSERVABILITY),
        "no body policy": ours(BODY),
        "no middlewares": ours(OBSERVABILITY, BODY),
        "hello": hello(),
    }


def measure(quick: bool) -> list[Result]:
    n = rounds(quick, 15)
    batch = 50 if quick else BATCH
    with (
        in_process_service(),
        open(os.devnull, "w") as sink,
        contextlib.redirect_stdout(sink),  # EMF documents (print) and nothing else
    ):
        os.environ["ORDERS_RATE_LIMIT_PER_MINUTE"] = "0"
        from orders.observability import logger

        logger.registered_handler.setStream(sink)  # type: ignore[attr-defined]
        built = apps()
        times = asyncio.run(_interleaved(built, n, batch))
    us = {name: median(values) for name, values in times.items()}
    note = f"in-process, no server; median CPU time of {n} interleaved batches of {batch}"
    hello = us["hello"]

    def row(name: str, value: float, baseline: float | None) -> Result:
        return Result(name, value, baseline, None, unit="s/request", note=note, samples=n)

    return [
        row("in-process GET /api/health (no server): ours / bare FastAPI hello", us["ours"], hello),
        row(
            "in-process GET /api/health: ours without its middlewares / bare FastAPI hello",
            us["no middlewares"],
            hello,
        ),
        row(
            "in-process: the observability middleware per request (ours - ours without it)",
            us["ours"] - us["no observability"],
            None,
        ),
        row(
            "in-process: the body and header policy per request (ours - ours without it)",
            us["ours"] - us["no body policy"],
            None,
        ),
    ]


async def _interleaved(built: dict[str, Any], n: int, batch: int) -> dict[str, list[float]]:
    for app in built.values():  # build each stack, warm each path
        await per_request(app, batch)
    times: dict[str, list[float]] = {name: [] for name in built}
    names = list(built)
    for i in range(n):
        for name in names[i % len(names) :] + names[: i % len(names)]:
            times[name].append(await per_request(built[name], batch))
    return times


if __name__ == "__main__":
    step_main(measure, __doc__)
