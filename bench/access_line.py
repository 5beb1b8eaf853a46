"""The per-request access line: µs per line, the shipped path / the stock Powertools call.

Before: `logger.info("request", method=..., ...)` on a stock Powertools Logger (default
formatter). After: `orders.observability.access_line`, what the middleware calls now. Both
write the same line (tests/unit/test_access_line.py) to /dev/null through a Powertools
handler, with the same appended and per-request keys; batches interleaved, median µs.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable

from bench.common import Result, median, rounds
from bench.processes import step_main

BATCH = 2000


def _stock_logger(sink: object) -> Callable[[], None]:
    from aws_lambda_powertools import Logger

    stock = Logger(service="orders-stock")
    stock.registered_handler.setStream(sink)  # type: ignore[attr-defined]
    stock.append_keys(target="fargate")

    def line() -> None:
        stock.thread_safe_append_keys(correlation_id="4f7c-bench")
        stock.info("request", method="GET", path="/api/health", status=200, duration_ms=0.21)
        stock.thread_safe_remove_keys(["correlation_id"])

    return line


def _shipped(sink: object) -> Callable[[], None]:
    from orders.observability import access_line, logger

    logger.registered_handler.setStream(sink)  # type: ignore[attr-defined]
    logger.append_keys(target="fargate")

    def line() -> None:
        logger.thread_safe_append_keys(correlation_id="4f7c-bench")
        access_line("request", method="GET", path="/api/health", status=200, duration_ms=0.21)
        logger.thread_safe_remove_keys(["correlation_id"])

    return line


def _per_line(write: Callable[[], None], n: int) -> float:
    """Seconds per line over n lines."""
    started = time.perf_counter()
    for _ in range(n):
        write()
    return (time.perf_counter() - started) / n


def measure(quick: bool) -> list[Result]:
    n = rounds(quick, 15)
    with open(os.devnull, "w") as sink:
        ways = {"stock": _stock_logger(sink), "shipped": _shipped(sink)}
        for write in ways.values():  # warm both paths
            _per_line(write, 200)
        per_line: dict[str, list[float]] = {k: [] for k in ways}
        for i in range(n):
            for name in list(ways) if i % 2 else list(reversed(ways)):
                per_line[name].append(_per_line(ways[name], BATCH))
    after, before = median(per_line["shipped"]), median(per_line["stock"])
    note = f"same line, to /dev/null; {BATCH} lines x {n} interleaved batches"
    name = "access line per request: access_line / Powertools logger.info"
    return [Result(name, after, before, None, unit="s/request", note=note, samples=n)]


if __name__ == "__main__":
    step_main(measure, __doc__)
