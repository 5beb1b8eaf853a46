"""The one Logger and Metrics of the service, and a Tracer only where tracing is on.

Metric names here are a contract: the dashboard and alarms in the templates use them.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import sys
import time
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.logging.formatter import RESERVED_LOG_ATTRS, LambdaPowertoolsFormatter

from orders.metric_buffer import MetricBuffer

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

    from aws_lambda_powertools import Tracer

SERVICE = "orders"
NAMESPACE = "OrdersService"

# The first characters a JSON document can start with (json.loads also takes NaN/Infinity).
_JSON_START = frozenset('{["-0123456789tfnNI')


class JsonFormatter(LambdaPowertoolsFormatter):
    """Powertools' JSON formatter, same output, less work per line.

    Two costs of the stock formatter are paid on every line for nothing: the timestamp goes
    through time.strftime each time (it changes once a second but for the milliseconds), and
    a message is parsed as JSON (a raised and caught JSONDecodeError for every plain message).
    """

    def __init__(self, **options: Any) -> None:
        super().__init__(**options)
        self._second: int | None = None
        self._second_text = ("", "")

    def formatTime(self, record: logging.LogRecord, datefmt: str | None = None) -> str:
        if datefmt or self.datefmt or self.use_rfc3339_iso8601:
            return super().formatTime(record, datefmt)
        second = int(record.created)
        if second != self._second:
            # Only the milliseconds change within a second (time zone changes fall on one).
            before, _, after = self.default_time_format.partition(self.custom_ms_time_directive)
            moment = self.converter(record.created)
            self._second_text = (time.strftime(before, moment), time.strftime(after, moment))
            self._second = second
        before, after = self._second_text
        return f"{before}{int(record.msecs):03d}{after}"

    def _extract_log_message(self, log_record: logging.LogRecord) -> Any:
        message = log_record.msg
        if (
            isinstance(message, str)
            and not log_record.args
            and message.lstrip()[:1] not in _JSON_START
        ):
            return message  # cannot be a JSON document: skip the parse that would fail
        return super()._extract_log_message(log_record)


logger = Logger(service=SERVICE, logger_formatter=JsonFormatter())
# The stdlib logger Powertools' Logger writes through (named after the service).
_stdlib_logger = logging.getLogger(SERVICE)
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


def access_line(message: str, **fields: Any) -> None:
    """Log one line per request: the line `logger.info(message, **fields)` writes, for less.

    Same keys in the same order: the formatter's (level, location, message, timestamp, then
    the appended ones such as service and target), this request's context keys (the
    correlation id), `fields`, and xray_trace_id when Lambda sets one; empty ones dropped.
    It skips what the stock path pays on every request for nothing here: stdlib's caller
    search (os.path checks on each frame; the caller is one frame up), a LogRecord, and the
    formatter's pass over all of that record's attributes. What the shortcut does not model
    (a filter, another formatter or handler, a key named like a LogRecord attribute, a
    changed level/location/timestamp format, a message that may be JSON) goes through
    `logger.info` instead.
    """
    if not _stdlib_logger.isEnabledFor(logging.INFO):
        return
    handler = logger.registered_handler
    formatter = handler.formatter
    context = logger.thread_safe_get_current_keys()
    if (
        type(formatter) is not JsonFormatter
        or type(handler) is not logging.StreamHandler
        or message.lstrip()[:1] in _JSON_START
        or handler.filters
        or _stdlib_logger.filters
        or not _RECORD_ATTRS.isdisjoint(context)
        or not _RECORD_ATTRS.isdisjoint(fields)
        or any(
            key in _RECORD_ATTRS and value and value != _STOCK_FORMATS.get(key)
            for key, value in formatter.log_format.items()
        )
    ):
        logger.info(message, stacklevel=2, **fields)
        return
    caller = sys._getframe(1)
    filled = {
        "level": "INFO",
        "location": f"{caller.f_code.co_name}:{caller.f_lineno}",
        "timestamp": formatter.formatTime(_Moment(time.time())),  # type: ignore[arg-type]
    }
    line = {
        key: filled[key] if value and key in filled else value
        for key, value in formatter.log_format.items()
    }
    line["message"] = message
    line.update(context)
    line.update(fields)
    line["xray_trace_id"] = formatter._get_latest_trace_id()
    text = formatter.serialize({k: v for k, v in line.items() if v is not None})
    with handler.lock:  # type: ignore[union-attr]
        handler.stream.write(text + handler.terminator)
        handler.flush()


_RECORD_ATTRS = frozenset(RESERVED_LOG_ATTRS)
# Powertools' layout of the keys access_line fills itself (LambdaPowertoolsFormatter).
_STOCK_FORMATS = {
    "level": "%(levelname)s",
    "location": "%(funcName)s:%(lineno)d",
    "timestamp": "%(asctime)s",
}


class _Moment:
    """What JsonFormatter.formatTime reads of a record: when it was made."""

    __slots__ = ("created", "msecs")

    def __init__(self, created: float) -> None:
        self.created = created
        self.msecs = int((created - int(created)) * 1000) + 0.0  # as logging.LogRecord does
