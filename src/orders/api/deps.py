"""FastAPI dependencies: the process's service, reached through app state."""

from typing import Annotated

from fastapi import Depends, Request

from orders.service import ANONYMOUS, OrderService


def _service(request: Request) -> OrderService:
    service: OrderService = request.app.state.container.service
    return service


ServiceDep = Annotated[OrderService, Depends(_service)]


def _caller(request: Request) -> str:
    """Who is asking, for scoping what belongs to a caller (Idempotency-Keys).

    The seam for authentication: there is none yet, so this is ANONYMOUS for everyone.
    When the JWT check arrives, return the verified subject (`sub`) here, never a value
    the client merely asserts.
    """
    return ANONYMOUS


CallerDep = Annotated[str, Depends(_caller)]
