"""The ASGI app factory. `uvicorn orders.app:create_app --factory` is the container's command."""

from __future__ import annotations

import contextlib
import logging
from typing import TYPE_CHECKING, Any

from fastapi import FastAPI

from orders import __version__
from orders.api import problems
from orders.api.body import RequestBodyMiddleware
from orders.api.middleware import ObservabilityMiddleware
from orders.api.models import Problem
from orders.api.origin_check import OriginCheckMiddleware, origin_secret_from
from orders.api.routes_attachments import router as attachments_router
from orders.api.routes_meta import add_meta_routes
from orders.api.routes_orders import router as orders_router
from orders.bootstrap import Container, bootstrap
from orders.observability import logger, periodic_metrics_flush, set_target
from orders.settings import SettingsError

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

    from orders.server_tracing import RequestTracing

API_PREFIX = "/api"


def create_app(
    container: Container | None = None,
    *,
    trace_requests: bool | None = None,
    metrics_flush_seconds: float | None = None,
) -> FastAPI:
    """Build the app around a container (clients, adapters, service) made once per process.

    trace_requests: X-Ray segments per request from the middleware (uvicorn on Fargate,
    with the daemon sidecar). Defaults to the tracing setting; the Lambda handler passes
    False because Powertools Tracer traces each invocation there.
    metrics_flush_seconds: how often the server's lifespan flushes EMF metrics; 0 flushes
    after every request (the Lambda handler's choice). Defaults to the setting.
    """
    container = _ready_to_serve(container)
    settings = container.settings
    flush_seconds = (
        settings.metrics_flush_seconds if metrics_flush_seconds is None else metrics_flush_seconds
    )
    app = _fastapi(flush_seconds)
    app.state.container = container
    if settings.auth_disabled:
        # Explicit opt-out only (tests and baselines not about auth); no template sets it.
        logger.warning(
            "authentication is disabled: every request acts as an operator",
            setting="ORDERS_AUTH_DISABLED",
        )
    # Which target serves: a key on every log line and a metric dimension (observability).
    set_target(settings.served_by)
    _add_routes(app)
    if trace_requests is None:
        trace_requests = settings.tracing_enabled
    _add_middleware(
        app,
        container,
        tracing=_request_tracing() if trace_requests else None,
        flush_seconds=flush_seconds,
    )
    _finish_openapi(app)
    _drop_server_access_log()
    return app


def _ready_to_serve(container: Container | None) -> Container:
    """The container (built here when not given) whose settings let the API serve: its data
    and its token check. Otherwise one clear line, then the start fails."""
    try:
        if container is None:
            container = bootstrap()
        container.settings.check_token_settings()
    except SettingsError as exc:
        logger.error("cannot start", reason=str(exc))
        raise
    return container


def _fastapi(flush_seconds: float) -> FastAPI:
    @contextlib.asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        async with periodic_metrics_flush(flush_seconds):
            yield

    return FastAPI(
        title="Orders service",
        version=__version__,
        description="Orders with a transactional outbox to EventBridge. Errors are RFC 9457.",
        openapi_url=f"{API_PREFIX}/openapi.json",
        docs_url=f"{API_PREFIX}/docs",
        redoc_url=None,
        swagger_ui_oauth2_redirect_url=None,
        lifespan=lifespan if flush_seconds > 0 else None,
        # A JSON body sent without a Content-Type (curl without -H, some generated
        # events) is read as JSON; any other type is a 415 (RequestBodyMiddleware).
        strict_content_type=False,
    )


def _add_routes(app: FastAPI) -> None:
    problems.install(app)
    # The meta routes (health is the load balancer's) are the app's own: see routes_meta.
    add_meta_routes(app.router, API_PREFIX)
    for router in (orders_router, attachments_router):
        app.include_router(router, prefix=API_PREFIX)


def _request_tracing() -> RequestTracing:
    # Imported only when requests are traced: an untraced app (Lambda) never loads it.
    from orders.server_tracing import RequestTracing

    return RequestTracing()


def _add_middleware(
    app: FastAPI,
    container: Container,
    *,
    tracing: RequestTracing | None,
    flush_seconds: float,
) -> None:
    settings = container.settings
    # Middleware order (the last added runs first):
    #   ObservabilityMiddleware -> OriginCheckMiddleware -> RequestBodyMiddleware -> routes.
    # Observability is outermost, so every refusal below is logged and counted. The origin
    # check runs before the body policy, so a request that did not come through the front
    # door is refused (403) before a byte of its body is read or waited for (no 408/413/415
    # work, and no limits disclosed, for traffic around the front door).
    app.add_middleware(
        RequestBodyMiddleware,
        max_bytes=settings.max_body_bytes,
        timeout_seconds=settings.body_timeout_seconds,
        max_header_bytes=settings.max_header_bytes,
    )
    if (origin_secret := origin_secret_from(settings, container.secret_reader)) is not None:
        app.add_middleware(OriginCheckMiddleware, secret=origin_secret)
    app.add_middleware(
        ObservabilityMiddleware, tracing=tracing, flush_each_request=flush_seconds == 0
    )


def _drop_server_access_log() -> None:
    """Leave the access log to our middleware (JSON, correlation id, same on Lambda).

    uvicorn writes its own plain-text line per request when its access logger has a
    handler; without one it skips the work, and every request is logged once.
    """
    access = logging.getLogger("uvicorn.access")
    access.handlers.clear()
    access.propagate = False


def _finish_openapi(app: FastAPI) -> None:
    """Add the Problem schema the routes' error responses refer to; say headers are strings.

    FastAPI documents an optional header as `anyOf: [string, null]`, which invites a
    client (or schemathesis) to send the text "null". An absent header is how HTTP
    says None, so each header parameter keeps only its non-null schema.
    """
    build = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = build()
            schemas = schema.setdefault("components", {}).setdefault("schemas", {})
            schemas["Problem"] = Problem.model_json_schema(
                ref_template="#/components/schemas/{model}"
            )
            for path in schema.get("paths", {}).values():
                for operation in path.values():
                    for parameter in operation.get("parameters", []):
                        if parameter.get("in") == "header":
                            parameter["schema"] = _without_null(parameter.get("schema", {}))
            app.openapi_schema = schema
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


def _without_null(schema: dict[str, Any]) -> dict[str, Any]:
    options = [o for o in schema.get("anyOf", []) if o.get("type") != "null"]
    if len(options) != 1:
        return schema
    rest = {k: v for k, v in schema.items() if k != "anyOf"}
    return {**options[0], **rest}
