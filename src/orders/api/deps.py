"""FastAPI dependencies: the process's service, reached through app state."""

from typing import Annotated

from fastapi import Depends, Request

from orders.service import OrderService


def _service(request: Request) -> OrderService:
    service: OrderService = request.app.state.container.service
    return service


ServiceDep = Annotated[OrderService, Depends(_service)]
