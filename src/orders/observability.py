"""The one Logger and Metrics of the service, and a Tracer only where tracing is on.

Metric names here are a contract: the dashboard and alarms in the templates use them.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import sys
import time
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.logging.formatter import (
    RESERVED_LOG_ATTRS,
    THREAD_LOCAL_KEYS,
    LambdaPowertoolsFormatter,
)
from aws_lambda_powertools.shared.constants import XRAY_TRACE_ID_ENV

from orders.metric_buffer import MetricBuffer

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Callable
    from contextvars import Token

    from aws_lambda_powertools import Tracer

SERVICE = "orders"
NAMESPACE = "OrdersService"

# The first characters a JSON document can start with (json.loads also takes NaN/Infinity).
_JSON_START = frozenset('{["-0123456789tfnNI')


class JsonFormatter(LambdaPowertoolsFormatter):
    """Powertools' JSON formatter, same output, less work per line.

    Three costs of the stock formatter are paid on every line for nothing: the timestamp goes
    through time.strftime each time (it changes once a second but for the milliseconds), a
    message is parsed as JSON (a raised and caught JSONDecodeError for every plain message),
    and json.dumps, given options, builds a new JSONEncoder for every line.
    """

    def __init__(self, **options: Any) -> None:
        super().__init__(**options)
        self._second: int | None = None
        self._second_text = ("", "")
        # The encoder Powertools' default serializer builds per line, built once: the same
        # output (tests/unit/test_access_line.py). None when the caller chose a serializer.
        self.encoder: json.JSONEncoder | None = None
        if options.get("json_serializer") is None:
            self.encoder = json.JSONEncoder(
                default=self.json_default,
                separators=(",", ":"),
                indent=self.json_indent,
                ensure_ascii=False,
            )
            self.json_serializer = self.encoder.encode

    def formatTime(self, record: logging.LogRecord, datefmt: str | None = None) -> str:
        if datefmt or not self.stamps_itself():
            return super().formatTime(record, datefmt)
        return self.stamp(record.created, int(record.msecs))

    def stamps_itself(self) -> bool:
        """True when the timestamp is the default layout, which `stamp` writes."""
        return not (self.datefmt or self.use_rfc3339_iso8601)

    def stamp(self, created: float, msecs: int | None = None) -> str:
        """The default timestamp of a record made at `created` (epoch seconds); `msecs` as
        the record has them (else computed from `created` as logging.LogRecord does)."""
        second = int(created)
        if second != self._second:
            # Only the milliseconds change within a second (time zone changes fall on one).
            before, _, after = self.default_time_format.partition(self.custom_ms_time_directive)
            moment = self.converter(created)
            self._second_text = (time.strftime(before, moment), time.strftime(after, moment))
            self._second = second
        before, after = self._second_text
        if msecs is None:
            msecs = int((created - second) * 1000)
        return f"{before}{msecs:03d}{after}"

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
    # Requests the per-caller throttle refused (429), and its counter store's failures
    # (those requests went through unlimited: orders.throttle fails open).
    THROTTLED = "Throttled"
    THROTTLE_STORE_FAILURES = "ThrottleStoreFailures"


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


def request_keys(**keys: Any) -> Token[dict[str, Any]]:
    """Add keys to every line logged in this request's context, until `end_request_keys`.

    What `logger.thread_safe_append_keys` does (a new dict in Powertools' context variable,
    so requests that overlap keep their own), without its three calls deep per request; and
    the token restores exactly what was there before, so nothing a request added outlives it.
    """
    return THREAD_LOCAL_KEYS.set({**THREAD_LOCAL_KEYS.get(), **keys})


def end_request_keys(token: Token[dict[str, Any]]) -> None:
    THREAD_LOCAL_KEYS.reset(token)


def access_line(message: str, **fields: Any) -> None:
    """Log one line per request: the line `logger.info(message, **fields)` writes, for less.

    Same keys in the same order: the formatter's (level, location, message, timestamp, then
    the appended ones such as service and target), this request's context keys (the
    correlation id), `fields`, and xray_trace_id when Lambda sets one; empty ones dropped.
    It skips what the stock path pays on every request for nothing here: stdlib's caller
    search (os.path checks on each frame; the caller is one frame up), a LogRecord, and the
    formatter's pass over all of that record's attributes; and it lays out the formatter's
    keys once (`_LinePlan`), not on every line, until they change. What the shortcut does
    not model (a filter, another formatter or handler, a key named like a LogRecord
    attribute or like one of the formatter's keys, a changed level/location/timestamp
    format, a message that may be JSON) goes through `logger.info` instead.
    """
    if not _stdlib_logger.isEnabledFor(logging.INFO):
        return
    handler = logger.registered_handler
    plan = _plan_for(handler)
    context = THREAD_LOCAL_KEYS.get()  # logger.thread_safe_get_current_keys(), one call
    if (
        plan is None
        or handler.filters
        or _stdlib_logger.filters
        or message.lstrip()[:1] in _JSON_START
        or not plan.reserved.isdisjoint(context)
        or not plan.reserved.isdisjoint(fields)
    ):
        logger.info(message, stacklevel=2, **fields)
        return
    tail = {**context, **fields}
    if trace := os.environ.get(XRAY_TRACE_ID_ENV):  # Lambda's, per invocation
        tail["xray_trace_id"] = trace.split(";")[0].replace("Root=", "")
    if None in tail.values():
        tail = {k: v for k, v in tail.items() if v is not None}
    # The formatter's keys were encoded once (plan.parts); a line encodes only its values.
    filled = {"message": message}
    if plan.location:
        caller = sys._getframe(1)
        filled["location"] = f"{caller.f_code.co_name}:{caller.f_lineno}"
    if plan.timestamp:
        filled["timestamp"] = plan.formatter.stamp(time.time())
    text = "".join(
        [
            *[before + _encode_text(filled[key]) for before, key in plan.parts],
            plan.rest,
            "," + plan.encode(tail)[1:] if tail else "}",
        ]
    )
    stream = handler.stream  # type: ignore[attr-defined]
    with handler.lock:  # type: ignore[union-attr]
        stream.write(text + handler.terminator)  # type: ignore[attr-defined]
        stream.flush()


class _LinePlan:
    """The formatter's keys laid out for access_line, encoded once: the text before each value
    a line fills (location, message, timestamp) and after the last, the static values (level,
    service, target) in their places, empty ones left out as the formatter leaves them out.

    Made again when the handler, its formatter or the formatter's keys (append_keys,
    remove_keys) change; a line checks that by identity and one dict comparison.
    """

    __slots__ = (
        "encode",
        "formatter",
        "handler",
        "keys",
        "location",
        "parts",
        "reserved",
        "rest",
        "timestamp",
    )

    def __init__(self, handler: logging.Handler, formatter: JsonFormatter, encoder: Any) -> None:
        self.handler = handler
        self.formatter = formatter
        self.encode: Callable[[Any], str] = encoder.encode
        self.keys = dict(formatter.log_format)
        self.location = bool(self.keys.get("location"))
        self.timestamp = bool(self.keys.get("timestamp"))
        filled = {"message"} | {k for k in ("location", "timestamp") if getattr(self, k)}
        layout = dict(self.keys)
        layout.setdefault("message", None)  # at the end when the formatter has no place for it
        parts: list[tuple[str, str]] = []
        pending, separator = "{", ""
        for key, value in layout.items():
            if key in filled:
                parts.append((f"{pending}{separator}{_encode_text(key)}:", key))
                pending, separator = "", ","
            elif value is not None:
                value = "INFO" if key == "level" and value else value
                pending += separator + self.encode({key: value})[1:-1]
                separator = ","
        self.parts = parts
        self.rest = pending
        # A context key or field named like a LogRecord attribute or one of these keys
        # would change the layout: logger.info decides where it goes.
        self.reserved = _RECORD_ATTRS | frozenset(layout) | {"xray_trace_id"}

    def fits(self, handler: logging.Handler) -> bool:
        return (
            handler is self.handler
            and handler.formatter is self.formatter
            and self.formatter.log_format == self.keys
        )


def _plan_for(handler: logging.Handler) -> _LinePlan | None:
    """The current plan for this handler, or None when the shortcut cannot write its lines."""
    global _plan
    plan = _plan
    if plan is not None and plan.fits(handler):
        return plan
    formatter = handler.formatter
    if (
        type(formatter) is not JsonFormatter
        or type(handler) is not logging.StreamHandler
        or formatter.encoder is None  # a serializer of the caller's: what it writes is its own
        or formatter.json_indent is not None  # POWERTOOLS_DEV's indented lines
        or not formatter.stamps_itself()
        or "xray_trace_id" in formatter.log_format
        or any(
            value and value != _STOCK_FORMATS.get(key)
            for key, value in formatter.log_format.items()
            if key in _RECORD_ATTRS or key in _STOCK_FORMATS
        )
    ):
        return None
    _plan = _LinePlan(handler, formatter, formatter.encoder)
    return _plan


_plan: _LinePlan | None = None
# How the formatter's encoder writes a string (ensure_ascii=False): json's own function.
_encode_text: Callable[[str], str] = json.encoder.encode_basestring
_RECORD_ATTRS = frozenset(RESERVED_LOG_ATTRS)
# Powertools' layout of the keys access_line fills itself (LambdaPowertoolsFormatter).
_STOCK_FORMATS = {
    "level": "%(levelname)s",
    "location": "%(funcName)s:%(lineno)d",
    "timestamp": "%(asctime)s",
}
