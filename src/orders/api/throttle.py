"""The per-caller throttle as a FastAPI dependency: a 429 problem+json with Retry-After.

The caller is the authenticated principal's `caller_id` ("user:<sub>" or
"client:<client_id>", set on `request.state.principal` by the auth dependency), so the
limit is per user or machine client whatever address it comes from. Without a principal
(auth switched off for a bench or a test) it falls back to the client's address, which
behind CloudFront or a load balancer is the proxy's: only a stand-in.

It must run after authentication. Once `orders.api.auth.PrincipalDep` exists, give
`throttle` a `principal: PrincipalDep` parameter: FastAPI then resolves the principal
first (once per request, cached) and `request.state.principal` is set when this runs.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

from fastapi import Depends, HTTPException, Request

if TYPE_CHECKING:
    from orders.throttle import Throttle

STATUS = 429


def caller_key(request: Request) -> str:
    """The key the throttle counts under: the principal's caller id, else the address."""
    principal = getattr(request.state, "principal", None)
    caller_id = getattr(principal, "caller_id", None)
    if isinstance(caller_id, str) and caller_id:
        return caller_id
    host = request.client.host if request.client else "unknown"
    return f"ip:{host}"


def throttle(request: Request) -> None:
    """Count the request for its caller; a full window is a 429 with Retry-After."""
    limiter: Throttle | None = request.app.state.container.throttle
    if limiter is None:  # ORDERS_RATE_LIMIT_PER_MINUTE=0
        return
    decision = limiter.check(caller_key(request))
    if not decision.allowed:
        raise HTTPException(
            STATUS,
            detail=(
                f"more than {decision.limit} requests in {limiter.window_seconds} s "
                f"from this caller; retry after {decision.retry_after} s"
            ),
            headers={"Retry-After": str(decision.retry_after)},
        )


ThrottleDep = Annotated[None, Depends(throttle)]
