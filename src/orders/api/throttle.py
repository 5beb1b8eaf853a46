"""The per-caller throttle as a FastAPI dependency: a 429 problem+json with Retry-After.

The caller is the authenticated principal's `caller_id` ("user:<sub>" or
"client:<client_id>", set on `request.state.principal` by the auth dependency), so the
limit is per user or machine client whatever address it comes from. Without a principal
(auth switched off for a bench or a test) it falls back to the client's address, which
behind CloudFront or a load balancer is the proxy's: only a stand-in.

It runs after authentication: `throttle` takes the principal (PrincipalDep), so FastAPI
resolves and verifies it first, once per request.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

from fastapi import Depends, HTTPException, Request

from orders.api.auth import PrincipalDep  # noqa: TC001 - FastAPI reads it at runtime
from orders.domain.principal import AUTH_DISABLED

if TYPE_CHECKING:
    from orders.domain.principal import Principal
    from orders.throttle import Throttle

STATUS = 429


def caller_key(request: Request, principal: Principal) -> str:
    """The key the throttle counts under: the principal's caller id, else the address."""
    if principal is not AUTH_DISABLED:
        return principal.caller_id
    # Authentication switched off: everyone is the same stand-in principal, so the address
    # is the only thing that tells callers apart.
    host = request.client.host if request.client else "unknown"
    return f"ip:{host}"


def throttle(request: Request, principal: PrincipalDep) -> None:
    """Count the request for its caller; a full window is a 429 with Retry-After."""
    limiter: Throttle | None = request.app.state.container.throttle
    if limiter is None:  # ORDERS_RATE_LIMIT_PER_MINUTE=0
        return
    decision = limiter.check(caller_key(request, principal))
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
