"""FastAPI dependencies shared by the routers: the process's service, the caller, the order id."""

import re
from typing import Annotated

from fastapi import Depends, Path, Request

from orders.domain.errors import OrderNotFound
from orders.service import ANONYMOUS, OrderService

_ORDER_ID = re.compile(r"[0-9a-f]{32}")


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


def _order_id(
    order_id: Annotated[str, Path(description="Order id (32 hex characters)")],
) -> str:
    # An id of another shape names no order: a 404 like any unknown id (not a 422: the
    # URL is well formed, there is just nothing there), answered without a table call.
    if not _ORDER_ID.fullmatch(order_id):
        raise OrderNotFound(order_id[:64])
    return order_id


OrderId = Annotated[str, Depends(_order_id)]
