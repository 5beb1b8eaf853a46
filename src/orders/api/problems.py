"""RFC 9457 problem+json for every error, with a stable `type` per kind of problem."""

from __future__ import annotations

import re
from functools import lru_cache
from http import HTTPStatus
from typing import TYPE_CHECKING, Any

from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException as StarletteHTTPException

from orders import ports
from orders.api import auth
from orders.api.auth import InvalidToken
from orders.api.conditions import PreconditionFailed
from orders.domain import errors
from orders.observability import logger

if TYPE_CHECKING:
    from fastapi import FastAPI, Request

MEDIA_TYPE = "application/problem+json"
TYPE_PREFIX = "urn:orders:problem:"

# domain error (or the API's own 412) -> (status, slug). Anything else is a 500 with no detail.
_DOMAIN: dict[type[Exception], tuple[int, str]] = {
    errors.OrderNotFound: (404, "not-found"),
    errors.IllegalTransition: (409, "illegal-transition"),
    errors.VersionConflict: (409, "version-conflict"),
    PreconditionFailed: (412, "precondition-failed"),
    errors.InvalidCursor: (400, "invalid-cursor"),
    errors.IdempotencyConflict: (422, "idempotency-key-reused"),
    errors.IdempotencyInProgress: (409, "idempotency-in-progress"),
    errors.AttachmentRejected: (422, "attachment-rejected"),
    errors.Forbidden: (403, "forbidden"),
    errors.InsufficientScope: (403, "insufficient-scope"),
    errors.CustomerRequired: (422, "customer-required"),
}

# A create takes well under a second; a client that waits this long mostly finds it done.
IN_PROGRESS_RETRY_AFTER_SECONDS = 1

_HTTP_SLUGS = {
    400: "bad-request",
    401: "unauthorized",
    403: "forbidden",
    404: "not-found",
    405: "method-not-allowed",
    406: "not-acceptable",
    408: "request-timeout",
    413: "payload-too-large",
    415: "unsupported-media-type",
    429: "too-many-requests",
}


def problem(
    status: int,
    slug: str,
    detail: str,
    *,
    instance: str | None = None,
    headers: dict[str, str] | None = None,
    **extra: Any,
) -> JSONResponse:
    body: dict[str, Any] = {
        "type": TYPE_PREFIX + slug,
        "title": HTTPStatus(status).phrase,
        "status": status,
        "detail": detail,
    }
    if instance:
        body["instance"] = instance
    body.update(extra)
    return JSONResponse(body, status_code=status, media_type=MEDIA_TYPE, headers=headers)


def _field(loc: tuple[Any, ...]) -> str:
    # ("body", "quantity") -> "quantity"; ("query", "limit") -> "limit"; ("body",) -> "body"
    parts = [str(p) for p in loc[1:]] or [str(p) for p in loc]
    return ".".join(parts)


async def _validation(request: Request, exc: RequestValidationError) -> JSONResponse:
    if auth.requires_token(request):
        # A body FastAPI could not parse is refused before dependencies run: check the
        # token first, so an unauthenticated caller gets a 401 whatever it sent.
        try:
            await run_in_threadpool(auth.authenticate, request)
        except auth.InvalidToken as invalid:
            return await _unauthenticated(request, invalid)
        except ports.DependencyUnavailable as unavailable:
            return await _dependency(request, unavailable)
    problems = []
    malformed = False
    for error in exc.errors():
        if error.get("type") == "json_invalid":
            malformed = True
        field = _field(tuple(error.get("loc", ())))
        problems.append({"field": field, "message": str(error.get("msg", "invalid"))})
    if malformed:
        return problem(
            400,
            "malformed-json",
            "the request body is not valid JSON",
            instance=request.url.path,
        )
    detail = "; ".join(f"{p['field']}: {p['message']}" for p in problems)
    return problem(422, "validation-error", detail, instance=request.url.path, errors=problems)


async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
    slug = _HTTP_SLUGS.get(exc.status_code, "http-error")
    detail = exc.detail if isinstance(exc.detail, str) else HTTPStatus(exc.status_code).phrase
    headers = dict(exc.headers or {})
    if exc.status_code == 405:
        headers["Allow"] = allowed_methods(request)
    return problem(exc.status_code, slug, detail, instance=request.url.path, headers=headers)


def allowed_methods(request: Request) -> str:
    """Every method the OpenAPI document declares at this path (RFC 9110 Allow).

    Starlette names only the methods of the first route that matched the path, but
    GET and POST .../orders are two routes; the document is the one complete list.
    """
    root = request.scope.get("root_path", "")
    path = request.url.path.removeprefix(root) if root else request.url.path
    for template, item in request.app.openapi().get("paths", {}).items():
        if _template(template).fullmatch(path):
            return ", ".join(sorted(method.upper() for method in item))
    return ""


@lru_cache(maxsize=64)
def _template(path: str) -> re.Pattern[str]:
    return re.compile(re.sub(r"\\\{[^/]+?\\\}", "[^/]+", re.escape(path)))


async def _domain(request: Request, exc: Exception) -> JSONResponse:
    status, slug = _DOMAIN[type(exc)]
    extra: dict[str, Any] = {}
    if isinstance(exc, errors.IllegalTransition):
        extra = {"current_status": exc.current, "allowed_transitions": exc.allowed}
    if isinstance(exc, errors.VersionConflict | PreconditionFailed) and exc.actual:
        extra = {"current_version": exc.actual}
    if isinstance(exc, errors.CustomerRequired):
        extra = {"errors": [{"field": "customer", "message": "Field required"}]}
    headers = None
    if isinstance(exc, errors.IdempotencyInProgress):
        # The first attempt is still running (or crashed and its claim has not lapsed).
        headers = {"Retry-After": str(IN_PROGRESS_RETRY_AFTER_SECONDS)}
    if isinstance(exc, errors.InsufficientScope):
        headers = {"WWW-Authenticate": f'Bearer error="insufficient_scope", scope="{exc.scope}"'}
    return problem(status, slug, str(exc), instance=request.url.path, headers=headers, **extra)


async def _unauthenticated(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, InvalidToken)
    # Why a token was refused goes to the log at info (a client's mistake, or a probe),
    # never the token itself.
    logger.info("unauthenticated", path=request.url.path, reason=str(exc))
    return problem(
        401,
        "unauthorized",
        str(exc),
        instance=request.url.path,
        headers={"WWW-Authenticate": exc.challenge},
    )


async def _dependency(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, ports.DependencyUnavailable)
    # Already logged with context by the adapter; the caller learns which dependency, not why.
    return problem(
        503,
        "dependency-unavailable",
        f"{exc.dependency} is unavailable; retry later",
        instance=request.url.path,
        headers={"Retry-After": "1"},
    )


async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
    logger.exception("unhandled error", path=request.url.path, error=type(exc).__name__)
    return problem(500, "internal-error", "an unexpected error occurred", instance=request.url.path)


def install(app: FastAPI) -> None:
    """Register the handlers that turn every failure into problem+json."""
    app.add_exception_handler(RequestValidationError, _validation)  # type: ignore[arg-type]
    app.add_exception_handler(StarletteHTTPException, _http)  # type: ignore[arg-type]
    for error_type in _DOMAIN:
        app.add_exception_handler(error_type, _domain)
    app.add_exception_handler(InvalidToken, _unauthenticated)
    app.add_exception_handler(ports.DependencyUnavailable, _dependency)
    app.add_exception_handler(Exception, _unexpected)
