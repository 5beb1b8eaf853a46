"""Refuse API requests that did not come through the front door.

CloudFront adds `X-Origin-Verify: <secret>` to every request it forwards (cform/edge.yaml).
The HTTP API's execute-api name and the ALB cannot be made private on their own, so the app
checks the header: a request that reached it through API Gateway or a load balancer without
the secret is answered 403 (problem+json) before any route runs.

Not checked:
- `/api/health`: the ALB's own health checks reach the tasks directly, not through CloudFront.
- A request that reached uvicorn directly inside the VPC (no `aws.event`, no X-Forwarded-For):
  the Streamlit UI calls the API by its Cloud Map name, and only the ALB's and the UI's
  security groups may open the port. The ALB always appends X-Forwarded-For
  (`routing.http.xff_header_processing.mode: append`, pinned in cform/fargate.yaml), so every
  request from outside the VPC carries one.

The accepted values: the one ECS injected at task start (`ORDERS_ORIGIN_SECRET`), and, given
the secret's ARN (`ORDERS_ORIGIN_SECRET_ARN`, how the function gets it), its AWSCURRENT and
AWSPREVIOUS values read from Secrets Manager, cached, and re-read at most every
`MISS_REFRESH_SECONDS` when a header matches neither, so a rotation (new value in Secrets
Manager, then a redeploy that hands it to CloudFront) refuses nothing in between.
"""

from __future__ import annotations

import hmac
import threading
import time
from typing import TYPE_CHECKING

from orders.api.problems import problem
from orders.observability import logger
from orders.ports import DependencyUnavailable

if TYPE_CHECKING:
    from collections.abc import Callable

    from starlette.types import ASGIApp, Receive, Scope, Send

    from orders.settings import Settings

HEADER = b"x-origin-verify"
EXEMPT_PATHS = frozenset({"/api/health"})
STAGES = ("AWSCURRENT", "AWSPREVIOUS")
REFRESH_SECONDS = 300.0
MISS_REFRESH_SECONDS = 30.0


class OriginSecretUnavailable(RuntimeError):
    """Secrets Manager could not be read; the request cannot be checked."""


class OriginSecret:
    """The values a request's X-Origin-Verify header may carry."""

    def __init__(
        self,
        *,
        value: str | None = None,
        arn: str | None = None,
        fetch: Callable[[str, str], str | None] | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if not value and not arn:
            raise ValueError("an origin secret needs a value or an ARN")
        if arn and fetch is None:
            raise ValueError("an origin secret ARN needs a fetch function")
        self._value = value or None
        self._arn = arn or None
        self._fetch = fetch
        self._clock = clock
        self._lock = threading.Lock()
        self._fetched: tuple[str, ...] = ()
        self._fetched_at: float | None = None

    def accepts(self, given: str) -> bool:
        """True when `given` is one of the accepted values (compared in constant time)."""
        if self._value is not None and _same(given, self._value):
            return True
        if self._arn is None:
            return False
        if any(_same(given, v) for v in self._values(stale_after=REFRESH_SECONDS)):
            return True
        # Perhaps rotated since the last read: look again, but not on every bad request.
        return any(_same(given, v) for v in self._values(stale_after=MISS_REFRESH_SECONDS))

    def _values(self, *, stale_after: float) -> tuple[str, ...]:
        with self._lock:
            now = self._clock()
            if self._fetched_at is None or now - self._fetched_at >= stale_after:
                assert self._arn is not None
                assert self._fetch is not None
                arn, fetch = self._arn, self._fetch
                try:
                    found = tuple(v for v in (fetch(arn, stage) for stage in STAGES) if v)
                except DependencyUnavailable as exc:
                    raise OriginSecretUnavailable(exc.reason) from exc
                if not found:
                    raise OriginSecretUnavailable("the origin secret has no current value")
                self._fetched, self._fetched_at = found, now
            return self._fetched


def _same(given: str, expected: str) -> bool:
    return hmac.compare_digest(given.encode("utf-8"), expected.encode("utf-8"))


def origin_secret_from(
    settings: Settings, reader: Callable[[], Callable[[str, str], str | None]]
) -> OriginSecret | None:
    """The check's secret when the settings name one; None (no check) otherwise, e.g. make dev.
    `reader` makes the Secrets Manager reader (the wiring's; only asked for given an ARN)."""
    value = settings.origin_secret.get_secret_value() if settings.origin_secret else None
    arn = settings.origin_secret_arn
    if not value and not arn:
        return None
    return OriginSecret(value=value, arn=arn, fetch=reader() if arn else None)


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers") or ():
        if key == name:
            return bytes(value).decode("latin-1")
    return None


def came_through_a_proxy(scope: Scope) -> bool:
    """API Gateway or an ALB delivered it (a Lambda event, or X-Forwarded-For, which the ALB
    always appends); else it came straight from inside the VPC."""
    return "aws.event" in scope or _header(scope, b"x-forwarded-for") is not None


class OriginCheckMiddleware:
    """Pure ASGI: 403 problem+json for proxied API requests without the front door's header."""

    def __init__(self, app: ASGIApp, secret: OriginSecret) -> None:
        self.app = app
        self.secret = secret

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            scope["type"] != "http"
            or scope["path"] in EXEMPT_PATHS
            or not came_through_a_proxy(scope)
        ):
            await self.app(scope, receive, send)
            return
        given = _header(scope, HEADER)
        try:
            # A read is rare (cached; on a miss at most every MISS_REFRESH_SECONDS): on Lambda it
            # blocks this one invocation; under uvicorn the injected value matches, and only a
            # rotation in progress (or a bad header) reads.
            allowed = given is not None and self.secret.accepts(given)
        except OriginSecretUnavailable as exc:
            logger.error("origin check impossible", path=scope["path"], reason=str(exc))
            response = problem(
                503,
                "dependency-unavailable",
                "secretsmanager is unavailable; retry later",
                instance=scope["path"],
                headers={"Retry-After": "1"},
            )
            await response(scope, receive, send)
            return
        if allowed:
            await self.app(scope, receive, send)
            return
        # Never log the header itself: a wrong value may be a near miss of the secret.
        logger.warning("request refused: not through the front door", path=scope["path"])
        response = problem(
            403,
            "not-through-front-door",
            "requests to this API must come through its front door (the ApiBaseUrl output)",
            instance=scope["path"],
        )
        await response(scope, receive, send)
