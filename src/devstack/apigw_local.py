"""The Lambda entry of `make dev`: an HTTP API-shaped server on loopback, no Docker.

Each HTTP request becomes the event API Gateway's HTTP API (payload format 2.0) sends
for template.yaml's routes (`ANY /api` and `ANY /api/{proxy+}`), the real
`orders.lambda_handler.handler` answers it, and its result becomes the HTTP response,
as API Gateway turns it into one. What API Gateway itself answers, this answers too:
404 `{"message":"Not Found"}` outside the routes, 500 `{"message":"Internal Server
Error"}` when the function fails, 503 `{"message":"Service Unavailable"}` past the
integration timeout.

The handler runs in execution environments: worker processes that each take one event
at a time, started on demand up to `--environments` and kept warm, as Lambda does (a
module-level app built once per environment, a cold start on the first event of each).
Beyond that many concurrent requests, events wait for a free environment instead of
being throttled.

Run as `python -m devstack.apigw_local --port N` with the service's environment.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import contextlib
import json
import logging
import multiprocessing
import secrets
import time
import uuid
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl

from starlette.applications import Starlette
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from devstack.config import LOOPBACK
from devstack.invoke import TIMEOUT_SECONDS, InvocationContext, handler_for
from devstack.loopback_server import log_to_stderr, serve

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Callable, Iterable, Sequence

    from starlette.requests import Request

log = logging.getLogger("devstack.apigw_local")

FUNCTION_NAME = "orders-local-ApiFunction"
DEFAULT_ENVIRONMENTS = 2
METHODS = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]
# Set by the server from the raw body; the handler's own value would be stale after decoding.
RESPONSE_HEADERS_DROPPED = frozenset({"content-length", "transfer-encoding", "connection"})
API_PREFIX = "/api"


# The routes template.yaml gives the HTTP API without the JWT authorizer (the rest have it):
# more specific than `ANY /api/{proxy+}`, so API Gateway picks them for a GET.
PUBLIC_GET_PATHS = ("health", "ready", "docs", "openapi.json")


def route_for(method: str, path: str) -> tuple[str, dict[str, str] | None] | None:
    """(routeKey, pathParameters) of template.yaml's HTTP API routes, or None (no route)."""
    if path == API_PREFIX:
        return f"ANY {API_PREFIX}", None
    proxy = path.removeprefix(f"{API_PREFIX}/")
    if method == "GET" and proxy in PUBLIC_GET_PATHS:
        return f"GET {path}", None
    # {proxy+} needs at least one segment.
    if proxy != path and proxy:
        return f"ANY {API_PREFIX}/{{proxy+}}", {"proxy": proxy}
    return None


def _joined(headers: Iterable[tuple[str, str]]) -> dict[str, str]:
    """HTTP API lower-cases header names and joins repeated ones with commas."""
    joined: dict[str, str] = {}
    for name, value in headers:
        key = name.lower()
        joined[key] = f"{joined[key]},{value}" if key in joined else value
    return joined


def _query_parameters(raw_query: str) -> dict[str, str] | None:
    pairs = parse_qsl(raw_query, keep_blank_values=True)
    return _joined(pairs) if pairs else None


def trace_id(now: float) -> str:
    """An X-Ray trace header as API Gateway adds one: Root=1-<epoch hex>-<96 random bits>."""
    return f"Root=1-{int(now):08x}-{secrets.token_hex(12)}"


def build_event(
    *,
    method: str,
    raw_path: str,
    raw_query: str,
    headers: Sequence[tuple[str, str]],
    body: bytes,
    source_ip: str,
    port: int,
    request_id: str,
    now: float,
) -> dict[str, Any] | None:
    """The HTTP API payload 2.0 event for one request; None when no route takes the path."""
    route = route_for(method, raw_path)
    if route is None:
        return None
    route_key, path_parameters = route
    joined, cookie = _forwarded_headers(headers, source_ip=source_ip, port=port, now=now)
    host = joined.get("host", f"{LOOPBACK}:{port}")
    moment = datetime.fromtimestamp(now, UTC)
    event: dict[str, Any] = {
        "version": "2.0",
        "routeKey": route_key,
        "rawPath": raw_path,
        "rawQueryString": raw_query,
        "headers": joined,
        "requestContext": {
            "accountId": "123456789012",
            "apiId": "local",
            "domainName": host,
            "domainPrefix": host.split(".", 1)[0],
            "http": {
                "method": method,
                "path": raw_path,
                "protocol": "HTTP/1.1",
                "sourceIp": source_ip,
                "userAgent": joined.get("user-agent", ""),
            },
            "requestId": request_id,
            "routeKey": route_key,
            "stage": "$default",
            "time": moment.strftime("%d/%b/%Y:%H:%M:%S +0000"),
            "timeEpoch": int(now * 1000),
        },
        "isBase64Encoded": False,
    }
    _add_optional_keys(event, cookie, raw_query, path_parameters, body)
    return event


def _forwarded_headers(
    headers: Sequence[tuple[str, str]], *, source_ip: str, port: int, now: float
) -> tuple[dict[str, str], str | None]:
    """The headers as the function sees them, and the Cookie header (an event key of its own)."""
    joined = _joined(headers)
    cookie = joined.pop("cookie", None)
    # Added by API Gateway on the way in.
    forwarded = joined.get("x-forwarded-for")
    joined["x-forwarded-for"] = f"{forwarded},{source_ip}" if forwarded else source_ip
    joined.setdefault("x-forwarded-port", str(port))
    joined.setdefault("x-forwarded-proto", "http")
    joined.setdefault("x-amzn-trace-id", trace_id(now))
    return joined, cookie


def _add_optional_keys(
    event: dict[str, Any],
    cookie: str | None,
    raw_query: str,
    path_parameters: dict[str, str] | None,
    body: bytes,
) -> None:
    """The keys API Gateway sets only when present: cookies, query, path parameters, body."""
    if cookie:
        event["cookies"] = [c.strip() for c in cookie.split(";") if c.strip()]
    query = _query_parameters(raw_query)
    if query:
        event["queryStringParameters"] = query
    if path_parameters:
        event["pathParameters"] = path_parameters
    if body:
        # Always base64: Mangum decodes either form, and bytes pass unchanged.
        event["body"] = base64.b64encode(body).decode("ascii")
        event["isBase64Encoded"] = True


def to_http(result: Any) -> tuple[int, list[tuple[str, str]], bytes]:
    """The handler's result as API Gateway answers it: (status, headers, body)."""
    if not isinstance(result, dict) or "statusCode" not in result:
        # Payload 2.0 without a statusCode: API Gateway answers 200 with the value as JSON.
        text = result if isinstance(result, str) else json.dumps(result)
        return 200, [("content-type", "application/json")], text.encode()
    headers: list[tuple[str, str]] = []
    for name, value in (result.get("headers") or {}).items():
        if name.lower() not in RESPONSE_HEADERS_DROPPED:
            headers.append((name.lower(), str(value)))
    for name, values in (result.get("multiValueHeaders") or {}).items():
        if name.lower() not in RESPONSE_HEADERS_DROPPED:
            headers.extend((name.lower(), str(v)) for v in values)
    headers.extend(("set-cookie", cookie) for cookie in result.get("cookies") or [])
    raw = result.get("body") or ""
    body = base64.b64decode(raw) if result.get("isBase64Encoded") else str(raw).encode()
    return int(result["statusCode"]), headers, body


def _warm() -> None:
    """An environment's init phase: import the handler's module, as Lambda does."""
    import orders.lambda_handler  # noqa: F401


def invoke_in_environment(event: dict[str, Any], function_name: str) -> Any:
    """Runs inside a worker process: one event through the real handler."""
    return handler_for("ApiFunction")(event, InvocationContext(function_name=function_name))


def _message(status: int, message: str, request_id: str) -> Response:
    return JSONResponse(
        {"message": message}, status_code=status, headers={"apigw-requestid": request_id}
    )


class LocalHttpApi:
    """The HTTP API in front of a pool of execution environments."""

    def __init__(
        self,
        *,
        port: int,
        environments: int = DEFAULT_ENVIRONMENTS,
        timeout: float = TIMEOUT_SECONDS,
        function_name: str = FUNCTION_NAME,
        invoke: Callable[[dict[str, Any], str], Any] = invoke_in_environment,
    ) -> None:
        self.port = port
        self.environments = environments
        self.timeout = timeout
        self.function_name = function_name
        self._invoke = invoke
        self._pool: ProcessPoolExecutor | None = None

    def _executor(self) -> ProcessPoolExecutor:
        if self._pool is None:
            # spawn: a fresh interpreter per environment, never a fork of this
            # process's threads (uvicorn's loop, the pool's own manager thread).
            self._pool = ProcessPoolExecutor(
                max_workers=self.environments,
                mp_context=multiprocessing.get_context("spawn"),
                initializer=_warm,
            )
        return self._pool

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=False, cancel_futures=True)
            self._pool = None

    async def handle(self, request: Request) -> Response:
        request_id = base64.b64encode(uuid.uuid4().bytes[:10]).decode("ascii")
        body = await request.body()
        raw_path = request.scope.get("raw_path", request.url.path.encode()).decode("latin-1")
        event = build_event(
            method=request.method,
            raw_path=raw_path.split("?", 1)[0],
            raw_query=request.scope.get("query_string", b"").decode("latin-1"),
            headers=[(k.decode("latin-1"), v.decode("latin-1")) for k, v in request.headers.raw],
            body=body,
            source_ip=request.client.host if request.client else LOOPBACK,
            port=self.port,
            request_id=request_id,
            now=time.time(),
        )
        if event is None:
            return _message(404, "Not Found", request_id)
        loop = asyncio.get_running_loop()
        try:
            result = await asyncio.wait_for(
                loop.run_in_executor(self._executor(), self._invoke, event, self.function_name),
                self.timeout,
            )
        except TimeoutError:
            log.error(
                "function timed out after %.0f s: %s %s", self.timeout, request.method, raw_path
            )
            return _message(503, "Service Unavailable", request_id)
        except BrokenProcessPool:
            # An environment died mid-event (killed, out of memory): Lambda answers this
            # invocation with an error and starts a fresh environment for the next ones.
            log.error("an execution environment died: %s %s", request.method, raw_path)
            self.close()
            return _message(500, "Internal Server Error", request_id)
        except Exception:
            log.exception("function error: %s %s", request.method, raw_path)
            return _message(500, "Internal Server Error", request_id)
        status, headers, content = to_http(result)
        response = Response(content, status_code=status)
        # Starlette's Response set content-length (and no content-type for bytes): keep
        # that, and add the function's headers as they came, repeated names included.
        for name, value in headers:
            response.headers.append(name, value)
        response.headers.append("apigw-requestid", request_id)
        return response


def create_app(api: LocalHttpApi) -> Starlette:
    @contextlib.asynccontextmanager
    async def lifespan(_app: Starlette) -> AsyncIterator[None]:
        try:
            yield
        finally:
            api.close()

    return Starlette(
        routes=[Route("/{path:path}", api.handle, methods=METHODS)],
        lifespan=lifespan,
    )


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m devstack.apigw_local", description=__doc__)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--environments", type=int, default=DEFAULT_ENVIRONMENTS)
    parser.add_argument("--function-name", default=FUNCTION_NAME)
    args = parser.parse_args(argv)
    log_to_stderr()
    api = LocalHttpApi(
        port=args.port, environments=args.environments, function_name=args.function_name
    )
    # API Gateway sends a Date header and no Server header.
    serve(create_app(api), args.port, date_header=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
