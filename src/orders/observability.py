"""The one Logger and Metrics of the service, and a Tracer only where tracing is on.

Metric names here are a contract: the dashboard and alarms in the templates use them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit

if TYPE_CHECKING:
    from aws_lambda_powertools import Tracer

SERVICE = "orders"
NAMESPACE = "OrdersService"

logger = Logger(service=SERVICE)
metrics = Metrics(namespace=NAMESPACE, service=SERVICE)


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


def count(name: str, value: float = 1) -> None:
    """Add to a Count metric; flushed by the request middleware or the outbox handler."""
    metrics.add_metric(name=name, unit=MetricUnit.Count, value=value)


def milliseconds(name: str, value: float) -> None:
    """Record a duration metric in milliseconds."""
    metrics.add_metric(name=name, unit=MetricUnit.Milliseconds, value=value)


def flush_metrics() -> None:
    """Emit the metrics gathered so far as one EMF document (no-op when there are none)."""
    # Powertools warns on an empty flush; a request that added nothing has nothing to say.
    if metrics.metric_set:
        metrics.flush_metrics()


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


def log_fields(**fields: Any) -> dict[str, Any]:
    """Drop empty fields so log lines stay short."""
    return {k: v for k, v in fields.items() if v is not None}
