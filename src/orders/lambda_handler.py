"""Lambda entry point: Mangum over the same app (API Gateway v1/v2 and ALB events)."""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from mangum import Mangum
from mangum.adapter import DEFAULT_TEXT_MIME_TYPES

from orders import snapstart
from orders.app import create_app
from orders.bootstrap import Container, bootstrap
from orders.observability import get_tracer, logger
from orders.settings import get_settings

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.typing import LambdaContext

Handler = Callable[[dict[str, Any], Any], dict[str, Any]]

_handler: Handler | None = None
_container: Container | None = None

# What the first token check imports (joserfc and cryptography's RSA, ~0.1 s). Without
# SnapStart a cold start pays it on its first authenticated request, never for health or
# docs; with SnapStart it is imported before the snapshot (prime).
TOKEN_CHECK_IMPORTS = ("joserfc.jwt", "joserfc.jwk", "joserfc.errors")


def _build(*, lazy: bool = True) -> Handler:
    global _container
    settings = get_settings()
    # Tracing patches botocore, so it is set up before the clients exist.
    tracer = get_tracer(settings.tracing_enabled)
    # lazy (without SnapStart): boto3 and the clients load on the first request that calls
    # AWS, so a cold start answering health or docs does not pay for them (~0.5 s). With
    # SnapStart everything is built before the snapshot instead (orders.snapstart).
    _container = bootstrap(settings, lazy=lazy)
    # lifespan="off": the app has no startup work, and Mangum's default runs
    # startup and shutdown around every single invocation.
    adapter = Mangum(
        create_app(_container, trace_requests=False, metrics_flush_seconds=0),
        lifespan="off",
        # Errors are problem+json: send them as text, not base64, so `sam local` shows them.
        text_mime_types=[*DEFAULT_TEXT_MIME_TYPES, "application/problem+json"],
    )
    handle: Handler = logger.inject_lambda_context(adapter)
    if tracer is not None:
        handle = tracer.capture_lambda_handler(handle)
    return handle


def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    """Serve one API Gateway or ALB event; the app is built on the first call and kept."""
    global _handler
    if _handler is None:
        _handler = _build()
    return _handler(event, context)


def prime() -> None:
    """Build the handler now with its clients, adapters and service wired (SnapStart: before
    the snapshot), so the first request imports and builds nothing."""
    global _handler
    _handler = _build(lazy=False)
    if _container is not None and not _container.settings.auth_disabled:
        for module in TOKEN_CHECK_IMPORTS:
            importlib.import_module(module)
        _container.key_cache()  # no fetch: the keys are read on the first token


def rewire() -> None:
    """New clients, adapters and service for the built handler (SnapStart: after a restore)."""
    if _container is not None:
        _container.rewire()


def reset() -> None:
    """Forget the built app (tests that change settings between cases)."""
    global _handler, _container
    _handler = None
    _container = None
    get_settings.cache_clear()


# In the init phase: with SnapStart on, the runtime calls the hooks around the snapshot.
snapstart.register()
