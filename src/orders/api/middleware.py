"""One observability middleware for both targets: correlation id, access log, metrics.

Pure ASGI (not BaseHTTPMiddleware), so it adds no task or queue per request.
"""

from __future__ import annotations

import os
import re
import time
from typing import TYPE_CHECKING, Any

from orders.observability import (
    MetricName,
    access_line,
    count,
    end_request_keys,
    flush_metrics,
    milliseconds,
    request_keys,
)

if TYPE_CHECKING:
    from starlette.types import ASGIApp, Message, Receive, Scope, Send

    from orders.server_tracing import RequestTracing

REQUEST_ID_HEADER = b"x-request-id"
_SAFE_ID = re.compile(r"^[A-Za-z0-9._:;=/+-]{1,128}$")
_TRACE_ROOT = re.compile(r"Root=([A-Za-z0-9-]{1,64})")


def correlation_id(scope: Scope) -> str:
    """The id that ties this request's logs together, in order of trust.

    API Gateway's request id, then the ALB's X-Amzn-Trace-Id root, then a caller's
    X-Request-Id (only if it looks like an id), else a new one: 128 random bits in hex (what
    uuid4().hex is but for its version digit, without building a UUID on every request).
    """
    event = scope.get("aws.event")
    if isinstance(event, dict):
        request_id = event.get("requestContext", {}).get("requestId")
        if isinstance(request_id, str) and _SAFE_ID.match(request_id):
            return str(request_id)
    # One pass over the headers; the last of a repeated header wins, as in a dict of them.
    trace = supplied = b""
    for name, value in scope.get("headers") or ():
        if name == b"x-amzn-trace-id":
            trace = value
        elif name == REQUEST_ID_HEADER:
            supplied = value
    if trace and (match := _TRACE_ROOT.search(trace.decode("latin-1"))):
        return str(match.group(1))
    if supplied and _SAFE_ID.match(text := supplied.decode("latin-1")):
        return text
    return os.urandom(16).hex()


def stage_root_path(scope: Scope) -> str:
    """'/<stage>' when an API Gateway REST API (v1) stage prefixes the public URL.

    Mangum gives the path without the stage; the docs page must link the OpenAPI
    document with it, so the stage becomes the ASGI root_path.
    """
    event = scope.get("aws.event")
    if not isinstance(event, dict) or event.get("version") == "2.0":
        return ""
    context: dict[str, Any] = event.get("requestContext") or {}
    stage, public_path = context.get("stage"), context.get("path")
    if isinstance(stage, str) and isinstance(public_path, str):
        prefix = f"/{stage}"
        if public_path.startswith(prefix + "/") and not scope["path"].startswith(prefix + "/"):
            return prefix
    return ""


class ObservabilityMiddleware:
    def __init__(
        self,
        app: ASGIApp,
        tracing: RequestTracing | None = None,
        flush_each_request: bool = True,
    ) -> None:
        self.app = app
        # X-Ray segments under uvicorn; on Lambda, Powertools Tracer wraps the handler instead.
        self.tracing = tracing
        # Lambda: one EMF document per invocation. uvicorn: a periodic flush in the lifespan.
        self.flush_each_request = flush_each_request

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if "aws.event" in scope and (root := stage_root_path(scope)):
            # ASGI's path includes root_path; Starlette strips it again for routing.
            scope = {**scope, "root_path": root, "path": root + scope["path"]}
        request_id = correlation_id(scope)
        echoed = (REQUEST_ID_HEADER, request_id.encode("latin-1"))
        status = 500  # what the caller sees if the app fails before answering
        started = time.perf_counter()

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message["headers"] = [*message.get("headers", ()), echoed]
            await send(message)

        segment = self.tracing.begin(scope) if self.tracing else None
        # Per request, in this task's context (threadpool workers inherit it): requests
        # overlap under a server, and Logger.append_keys changes one set shared by all.
        keys = request_keys(correlation_id=request_id)
        try:
            await self.app(scope, receive, send_with_id)
        finally:
            if segment is not None and self.tracing:
                self.tracing.end(segment, status)
            elapsed_ms = (time.perf_counter() - started) * 1000
            count(MetricName.REQUESTS)
            milliseconds(MetricName.LATENCY, elapsed_ms)
            if status >= 500:
                count(MetricName.SERVER_ERRORS)
            elif status >= 400:
                count(MetricName.CLIENT_ERRORS)
            access_line(
                "request",
                method=scope["method"],
                path=scope["path"],
                status=status,
                duration_ms=round(elapsed_ms, 2),
            )
            end_request_keys(keys)
            if self.flush_each_request:
                flush_metrics()
