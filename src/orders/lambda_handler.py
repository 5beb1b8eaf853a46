"""Lambda entry point: Mangum over the same app (API Gateway v1/v2 and ALB events)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from mangum import Mangum
from mangum.adapter import DEFAULT_TEXT_MIME_TYPES

from orders.app import create_app
from orders.bootstrap import bootstrap
from orders.observability import get_tracer, logger
from orders.settings import get_settings

if TYPE_CHECKING:
    from collections.abc import Callable

    from aws_lambda_powertools.utilities.typing import LambdaContext

_handler: Callable[[dict[str, Any], Any], dict[str, Any]] | None = None


def _build() -> Callable[[dict[str, Any], Any], dict[str, Any]]:
    settings = get_settings()
    # Tracing patches botocore, so it is set up before the clients exist.
    tracer = get_tracer(settings.tracing_enabled)
    # lifespan="off": the app has no startup work, and Mangum's default runs
    # startup and shutdown around every single invocation.
    # lazy: boto3 and the clients load on the first request that calls AWS, so a
    # cold start answering health or docs does not pay for them (~0.5 s).
    adapter = Mangum(
        create_app(bootstrap(settings, lazy=True), trace_requests=False, metrics_flush_seconds=0),
        lifespan="off",
        # Errors are problem+json: send them as text, not base64, so `sam local` shows them.
        text_mime_types=[*DEFAULT_TEXT_MIME_TYPES, "application/problem+json"],
    )
    handle: Callable[[dict[str, Any], Any], dict[str, Any]] = logger.inject_lambda_context(adapter)
    if tracer is not None:
        handle = tracer.capture_lambda_handler(handle)
    return handle


def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    """Serve one API Gateway or ALB event; the app is built on the first call and kept."""
    global _handler
    if _handler is None:
        _handler = _build()
    return _handler(event, context)


def reset() -> None:
    """Forget the built app (tests that change settings between cases)."""
    global _handler
    _handler = None
    get_settings.cache_clear()
