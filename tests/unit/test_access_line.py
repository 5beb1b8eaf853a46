"""The per-request access line: the same line Powertools' Logger writes, for less work.

orders.observability.access_line builds the line itself instead of going through a
LogRecord, the stdlib caller search and the formatter's pass over the record; these tests
hold it to the line `logger.info` would write, field by field and in order.
"""

from __future__ import annotations

import asyncio
import io
import json
import logging
import re
import time
from collections.abc import Iterator
from typing import Any

import pytest
from aws_lambda_powertools.logging.formatter import LambdaPowertoolsFormatter

from orders.api.middleware import ObservabilityMiddleware
from orders.observability import (
    JsonFormatter,
    access_line,
    end_request_keys,
    logger,
    request_keys,
)
from tests.logs import captured_logs

# What one request's access line carries: nothing more, nothing less (sampling_rate and
# xray_trace_id are empty here and dropped, as Powertools drops them).
ACCESS_FIELDS = [
    "level",
    "location",
    "message",
    "timestamp",
    "service",
    "correlation_id",
    "method",
    "path",
    "status",
    "duration_ms",
]
STOCK_TIMESTAMP = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3}[+-]\d{4}$")


@pytest.fixture
def lines(monkeypatch: pytest.MonkeyPatch) -> Iterator[io.StringIO]:
    """Powertools' handler keeps the stdout it started with; point it at a buffer. The logger
    starts from its own keys: tests before this one (a Lambda invocation, an app built) leave
    theirs on the process-wide logger, as a long-lived process does."""
    monkeypatch.delenv("_X_AMZN_TRACE_ID", raising=False)
    saved = dict(logger.get_current_keys())
    logger.clear_state()
    left_by_others = {k: v for k, v in saved.items() if k not in logger.get_current_keys()}
    with captured_logs() as stream:
        yield stream
    logger.clear_state()
    logger.append_keys(**left_by_others)


def read(stream: io.StringIO) -> list[dict[str, Any]]:
    text = stream.getvalue()
    stream.seek(0)
    stream.truncate()
    return [json.loads(line) for line in text.splitlines()]


async def _hello(scope: Any, receive: Any, send: Any) -> None:
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": b"{}"})


def serve_one(headers: list[tuple[bytes, bytes]]) -> None:
    """One GET /api/health through the middleware, as the server would call it."""
    scope = {"type": "http", "method": "GET", "path": "/api/health", "headers": headers}

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: Any) -> None:
        return None

    app = ObservabilityMiddleware(_hello, flush_each_request=False)
    asyncio.run(app(scope, receive, send))


def test_an_access_line_has_exactly_its_fields_in_order(lines: io.StringIO) -> None:
    serve_one([(b"x-request-id", b"req-7")])
    [line] = read(lines)
    assert list(line) == ACCESS_FIELDS
    assert line["level"] == "INFO"
    assert line["message"] == "request"
    assert line["location"].startswith("__call__:")  # the middleware, as with logger.info
    assert STOCK_TIMESTAMP.match(line["timestamp"])
    assert line["service"] == "orders"
    assert line["correlation_id"] == "req-7"
    assert (line["method"], line["path"], line["status"]) == ("GET", "/api/health", 200)
    assert isinstance(line["duration_ms"], float)


def test_the_line_equals_what_logger_info_writes(
    lines: io.StringIO, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given appended keys, a context key and an X-Ray trace id (Lambda sets it per invocation)
    monkeypatch.setenv("_X_AMZN_TRACE_ID", "Root=1-abc-def;Parent=1;Sampled=1")
    logger.append_keys(target="fargate", environment=None)
    logger.thread_safe_append_keys(correlation_id="c-1")
    try:
        fields: dict[str, Any] = {
            "method": "POST",
            "path": "/api/orders",
            "status": 201,
            "duration_ms": 1.5,
        }
        access_line("request", **fields)
        logger.info("request", **fields)
    finally:
        logger.thread_safe_remove_keys(["correlation_id"])
        logger.remove_keys(["target", "environment"])
    ours, stock = read(lines)
    assert list(ours) == list(stock)
    for key in ("timestamp", "location"):
        ours.pop(key), stock.pop(key)
    assert ours == stock
    assert ours["xray_trace_id"] == "1-abc-def"


def test_a_filter_on_the_logger_still_applies(lines: io.StringIO) -> None:
    """The shortcut does not run filters: with one set, the line goes through logger.info."""

    def drop_health(record: logging.LogRecord) -> bool:
        return getattr(record, "path", "") != "/api/health"

    logging.getLogger("orders").addFilter(drop_health)
    try:
        access_line("request", path="/api/health", status=200)
        access_line("request", path="/api/orders", status=200)
    finally:
        logging.getLogger("orders").removeFilter(drop_health)
    assert [line["path"] for line in read(lines)] == ["/api/orders"]


def test_a_disabled_level_writes_nothing(lines: io.StringIO) -> None:
    logger.setLevel("WARNING")
    try:
        access_line("request", status=200)
    finally:
        logger.setLevel("INFO")
    assert read(lines) == []


@pytest.mark.parametrize("created", [1_764_537_600.0, 1_764_537_600.999, 1_764_537_601.0005])
def test_the_cached_timestamp_equals_the_stock_one(created: float) -> None:
    ours, stock = JsonFormatter(), logging.getLogger("stock-formatter")
    record = stock.makeRecord("x", logging.INFO, __file__, 1, "m", (), None)
    record.created, record.msecs = created, int((created - int(created)) * 1000) + 0.0
    # Twice: the second call is served from the per-second cache.
    assert ours.formatTime(record) == LambdaPowertoolsFormatter().formatTime(record)
    assert ours.formatTime(record) == LambdaPowertoolsFormatter().formatTime(record)


def test_json_messages_are_still_parsed(lines: io.StringIO) -> None:
    logger.info('{"order": "o-1"}')
    logger.info("123")
    logger.info("plain words")
    assert [line["message"] for line in read(lines)] == [{"order": "o-1"}, 123, "plain words"]


def test_the_timestamp_follows_the_clock(lines: io.StringIO) -> None:
    access_line("request")
    time.sleep(1.01)
    access_line("request")
    first, second = read(lines)
    assert first["timestamp"][:19] != second["timestamp"][:19]


def _same_but_time(ours: dict[str, Any], stock: dict[str, Any]) -> None:
    assert list(ours) == list(stock)
    for key in ("timestamp", "location"):
        ours.pop(key), stock.pop(key)
    assert ours == stock


def test_keys_appended_between_lines_are_on_the_next(lines: io.StringIO) -> None:
    """The formatter's keys are laid out once; a change to them is seen on the next line."""
    access_line("request", status=200)
    logger.append_keys(region="eu-west-1")
    try:
        access_line("request", status=200)
        logger.info("request", status=200)
    finally:
        logger.remove_keys(["region"])
    access_line("request", status=200)
    before, ours, stock, after = read(lines)
    assert "region" not in before
    assert "region" not in after
    _same_but_time(ours, stock)
    assert ours["region"] == "eu-west-1"


@pytest.mark.parametrize(
    "fields",
    [
        {"service": "other", "status": 200},  # one of the formatter's keys
        {"status": None, "path": "/x"},  # an empty field is dropped
        {"xray_trace_id": "mine"},  # the key Lambda's trace id is written under
    ],
)
def test_odd_fields_are_written_as_logger_info_writes_them(
    lines: io.StringIO, fields: dict[str, Any]
) -> None:
    access_line("request", **fields)
    logger.info("request", **fields)
    ours, stock = read(lines)
    _same_but_time(ours, stock)


def test_a_message_beyond_ascii_is_written_as_logger_info_writes_it(
    lines: io.StringIO,
) -> None:
    access_line("requête \u2713", path="/café")
    logger.info("requête \u2713", path="/café")
    text = lines.getvalue().splitlines()
    assert "requête ✓" in text[0]  # not \\u escapes: Powertools writes ensure_ascii=False
    ours, stock = read(lines)
    _same_but_time(ours, stock)


def test_the_formatters_encoder_writes_what_powertools_default_serializer_does() -> None:
    record = {
        "message": "café",
        "when": time.gmtime(0),
        "ratio": 0.1 + 0.2,
        "nested": {"b": [1, None, True]},
        "odd": ValueError("not JSON"),  # written with str(), the default
    }
    assert JsonFormatter().serialize(record) == LambdaPowertoolsFormatter().serialize(record)


def test_request_keys_are_on_every_line_until_ended_and_leave_nothing_behind(
    lines: io.StringIO,
) -> None:
    logger.thread_safe_append_keys(tenant="t-1")
    try:
        token = request_keys(correlation_id="c-9")
        # Something in the request appends a key of its own the stock way.
        logger.thread_safe_append_keys(step="charge")
        logger.info("inside")
        access_line("request", status=200)
        end_request_keys(token)
        logger.info("after")
    finally:
        logger.thread_safe_remove_keys(["tenant"])
    inside, access, after = read(lines)
    assert (inside["correlation_id"], inside["step"], inside["tenant"]) == ("c-9", "charge", "t-1")
    assert (access["correlation_id"], access["step"]) == ("c-9", "charge")
    # What was there before the request is back, exactly: its own keys are gone.
    assert after["tenant"] == "t-1"
    assert "correlation_id" not in after
    assert "step" not in after
