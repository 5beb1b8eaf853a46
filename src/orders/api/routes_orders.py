"""/api/orders: create, read, list, change status, cancel, events."""

import re
from typing import Annotated

from fastapi import APIRouter, Header, HTTPException, Path, Query, Request, Response

from orders.api.deps import CallerDep, ServiceDep
from orders.api.models import (
    CancelRequest,
    EventList,
    EventPublic,
    OrderCreate,
    OrderList,
    OrderPublic,
    StatusUpdate,
)
from orders.api.responses import COMMON, problem_responses
from orders.domain.errors import PreconditionRequired
from orders.domain.model import Order, OrderQuery, OrderStatus
from orders.service import NewOrder

router = APIRouter(prefix="/orders", tags=["orders"], responses=COMMON)

OrderId = Annotated[
    str, Path(pattern=r"^[0-9a-f]{32}$", description="Order id (32 hex characters)")
]
IdempotencyKey = Annotated[
    str | None,
    Header(
        alias="Idempotency-Key",
        min_length=1,
        max_length=255,
        pattern=r"^[\x21-\x7e]+$",
        description="Replays with the same key and body return the first response",
    ),
]
IfMatch = Annotated[
    str | None,
    Header(alias="If-Match", max_length=64, description='The ETag you read, e.g. "3"'),
]
_ETAG = re.compile(r'^(?:W/)?"?(\d{1,10})"?$')


def public(order: Order) -> OrderPublic:
    return OrderPublic.model_validate(order.public())


def _with_etag(response: Response, order: Order) -> OrderPublic:
    response.headers["ETag"] = f'"{order.version}"'
    return public(order)


def expected_version(if_match: str | None, body_version: int | None) -> int:
    """The version the writer read, from If-Match or the body; both must agree."""
    header_version = None
    if if_match is not None:
        match = _ETAG.match(if_match.strip())
        if match is None:
            raise HTTPException(400, 'If-Match must be an ETag this API issued, e.g. "3"')
        header_version = int(match.group(1))
    if header_version is not None and body_version is not None and header_version != body_version:
        raise HTTPException(400, "If-Match and version disagree; send one of them")
    version = header_version if header_version is not None else body_version
    if version is None:
        raise PreconditionRequired
    return version


@router.post(
    "",
    status_code=201,
    responses=problem_responses(409),
    summary="Create an order",
)
def create_order(
    body: OrderCreate,
    request: Request,
    response: Response,
    service: ServiceDep,
    caller: CallerDep,
    idempotency_key: IdempotencyKey = None,
) -> OrderPublic:
    created = service.create(
        NewOrder(
            customer=body.customer, product=body.product, quantity=body.quantity, note=body.note
        ),
        idempotency_key=idempotency_key,
        caller=caller,
    )
    response.headers["Location"] = (
        f"{request.scope.get('root_path', '')}/api/orders/{created.order.id}"
    )
    if created.replayed:
        response.headers["Idempotent-Replayed"] = "true"
    return _with_etag(response, created.order)


@router.get("", summary="List orders, newest first")
def list_orders(
    service: ServiceDep,
    status: OrderStatus | None = None,
    customer: Annotated[str | None, Query(min_length=1, max_length=100)] = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
    cursor: Annotated[str | None, Query(min_length=1, max_length=2048)] = None,
) -> OrderList:
    page = service.page(OrderQuery(status=status, customer=customer, limit=limit, cursor=cursor))
    return OrderList(items=[public(o) for o in page.items], next_cursor=page.next_cursor)


@router.get("/{order_id}", responses=problem_responses(404), summary="Get an order")
def get_order(order_id: OrderId, response: Response, service: ServiceDep) -> OrderPublic:
    return _with_etag(response, service.get(order_id))


@router.put(
    "/{order_id}/status",
    responses=problem_responses(404, 409, 428),
    summary="Move an order to another status (optimistic locking)",
)
def update_status(
    order_id: OrderId,
    body: StatusUpdate,
    response: Response,
    service: ServiceDep,
    if_match: IfMatch = None,
) -> OrderPublic:
    version = expected_version(if_match, body.version)
    return _with_etag(
        response, service.change_status(order_id, body.status, expected_version=version)
    )


@router.post(
    "/{order_id}/cancel",
    responses=problem_responses(404, 409, 428),
    summary="Cancel a pending or confirmed order",
)
def cancel_order(
    order_id: OrderId,
    response: Response,
    service: ServiceDep,
    body: CancelRequest | None = None,
    if_match: IfMatch = None,
) -> OrderPublic:
    version = expected_version(if_match, body.version if body else None)
    return _with_etag(
        response,
        service.change_status(order_id, OrderStatus.CANCELLED, expected_version=version),
    )


@router.get(
    "/{order_id}/events",
    responses=problem_responses(404),
    summary="Events recorded for an order and whether the bus accepted them",
)
def order_events(order_id: OrderId, service: ServiceDep) -> EventList:
    return EventList(
        items=[
            EventPublic.model_validate(e, from_attributes=True) for e in service.events(order_id)
        ]
    )
