"""FastAPI dependencies shared by the routers: the caller's view of the service, the order id."""

import re
from typing import Annotated

from fastapi import Depends, Path, Request

from orders.api.auth import PrincipalDep
from orders.domain.errors import OrderNotFound
from orders.service import CallerOrders, OrderService

_ORDER_ID = re.compile(r"[0-9a-f]{32}")


def _service(request: Request) -> OrderService:
    service: OrderService = request.app.state.container.service
    return service


ServiceDep = Annotated[OrderService, Depends(_service)]


def _orders(service: ServiceDep, principal: PrincipalDep) -> CallerOrders:
    """The use cases as the verified caller may run them (authorization: orders.service).

    Also what scopes Idempotency-Keys: the principal's caller_id, never a value the
    client merely asserts.
    """
    return CallerOrders(service, principal)


OrdersDep = Annotated[CallerOrders, Depends(_orders)]


def _order_id(
    order_id: Annotated[str, Path(description="Order id (32 hex characters)")],
) -> str:
    # An id of another shape names no order: a 404 like any unknown id (not a 422: the
    # URL is well formed, there is just nothing there), answered without a table call.
    if not _ORDER_ID.fullmatch(order_id):
        raise OrderNotFound(order_id[:64])
    return order_id


OrderId = Annotated[str, Depends(_order_id)]
