"""The one Logger and Metrics of the service, and a Tracer only where tracing is on.

Metric names here are a contract: the dashboard and alarms in the templates use them.
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import TYPE_CHECKING

from aws_lambda_powertools import Logger, Metrics

from orders.metric_buffer import MetricBuffer

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

    from aws_lambda_powertools import Tracer

SERVICE = "orders"
NAMESPACE = "OrdersService"

logger = Logger(service=SERVICE)
metrics = Metrics(namespace=NAMESPACE, service=SERVICE)
_buffer = MetricBuffer(metrics)


class MetricName:
    """Metric names shared by both targets (one dashboard, one set of alarms)."""

    REQUESTS = "Requests"
    LATENCY = "Latency"
    CLIENT_ERRORS = "ClientErrors"
    SERVER_ERRORS = "ServerErrors"
    ORDERS_CREATED = "OrdersCreated"
    ORDER_STATUS_CHANGED = "OrderStatusChanged"
    IDEMPOTENT_REPLAYS = "IdempotentReplays"
    OUTBOX_PUBLISHED = "OutboxEventsPublished"
    OUTBOX_FAILED = "OutboxPublishFailures"
    OUTBOX_AGE = "OutboxEventAge"


def set_target(target: str) -> None:
    """Name the target serving this process (`lambda` or `fargate`) on every log line and as a
    second metric dimension set {service, target}, next to {service}: the alarms keep reading
    the whole service, the dashboard compares the targets side by side during a move."""
    logger.append_keys(target=target)
    _buffer.target = target


def new_environment(environment_id: str) -> None:
    """This process now serves as a new execution environment (a SnapStart restore): its id on
    every log line, and nothing gathered before (in the snapshot) is flushed as its metrics."""
    global _buffer
    logger.append_keys(environment=environment_id)
    fresh = MetricBuffer(metrics)
    fresh.target = _buffer.target
    _buffer = fresh
    metrics.clear_metrics()


def count(name: str, value: float = 1) -> None:
    """Add to a Count metric (summed until the next flush)."""
    _buffer.count(name, value)


def milliseconds(name: str, value: float) -> None:
    """Record a duration in milliseconds (every value kept, for percentiles)."""
    _buffer.milliseconds(name, value)


def flush_metrics() -> None:
    """Emit the metrics gathered so far as one EMF document (nothing when there are none).

    Once per invocation on Lambda; every few seconds and at shutdown under uvicorn.
    """
    _buffer.flush()


@contextlib.asynccontextmanager
async def periodic_metrics_flush(interval: float) -> AsyncIterator[None]:
    """While a server runs, flush metrics every `interval` seconds, and once more at shutdown.

    uvicorn runs the shutdown on SIGTERM (how ECS stops a task), so a deploy loses nothing.
    """

    async def flush_forever() -> None:
        while True:
            await asyncio.sleep(interval)
            try:
                flush_metrics()
            except Exception:
                # A bad metric must not stop every later flush; say which and go on.
                logger.exception("metrics flush failed")

    task = asyncio.create_task(flush_forever(), name="metrics-flush")
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        flush_metrics()


_tracer: Tracer | None = None


def get_tracer(enabled: bool) -> Tracer | None:
    """The Tracer when tracing is on, else None.

    The X-Ray SDK builds a client when imported (~0.3 s of cold start), so it is
    imported here, on demand, and never when tracing is off.
    """
    global _tracer
    if not enabled:
        return None
    if _tracer is None:
        from aws_lambda_powertools import Tracer

        _tracer = Tracer(service=SERVICE, patch_modules=["boto3", "botocore"])
    return _tracer
