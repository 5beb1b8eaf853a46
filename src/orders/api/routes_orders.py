"""/orders (under the API prefix): create, read, list, change status, cancel, events."""

from typing import Annotated

from fastapi import APIRouter, Depends, Header, Query, Request, Response

from orders.api.auth import AUTHENTICATED
from orders.api.conditions import (
    PreconditionFailed,
    etag,
    none_match,
    precondition,
)
from orders.api.deps import OrderId, OrdersDep
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
from orders.api.throttle import throttle
from orders.domain.errors import VersionConflict
from orders.domain.model import Order, OrderQuery, OrderSort, OrderStatus

# Authenticated, then throttled per caller (orders.api.throttle): a 429 with Retry-After.
router = APIRouter(
    prefix="/orders",
    tags=["orders"],
    responses={**COMMON, **problem_responses(401, 403, 429)},
    dependencies=[AUTHENTICATED, Depends(throttle)],
)

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
    Header(
        alias="If-Match",
        pattern=r'^(\*|(W/)?"?[0-9]{1,10}"?)$',
        description='Optional: the ETag you read, e.g. "3". A stale one is a 412; without '
        "one the change applies to the current version atomically",
    ),
]
IfNoneMatch = Annotated[
    str | None,
    Header(
        alias="If-None-Match",
        max_length=1024,
        description='ETags you hold, e.g. "3": a 304 with no body while one is current',
    ),
]
# Orders belong to a customer: no shared cache may keep one (private). A client may keep
# it but must revalidate before each use (no-cache), since its status changes at any
# time; If-None-Match makes that revalidation a bodiless 304.
CACHE_CONTROL = "private, no-cache"


def public(order: Order) -> OrderPublic:
    return OrderPublic.from_order(order)


def _with_etag(response: Response, order: Order) -> OrderPublic:
    response.headers["ETag"] = etag(order)
    return public(order)


class StatusChange:
    """A status change of the order in the path, as both change routes make it.

    The precondition is If-Match, else the body's version, else none (the change applies
    atomically to the current version); a lost race against If-Match is a 412, against the
    body's version a 409. The response carries the changed order's ETag.
    """

    def __init__(
        self, order_id: OrderId, response: Response, service: OrdersDep, if_match: IfMatch = None
    ) -> None:
        self._order_id = order_id
        self._response = response
        self._service = service
        self._if_match = if_match

    def to(self, target: OrderStatus, version: int | None) -> OrderPublic:
        condition = precondition(self._if_match, version)
        try:
            order = self._service.change_status(
                self._order_id, target, expected_version=condition.version
            )
        except VersionConflict as exc:
            if condition.from_header:
                raise PreconditionFailed(self._order_id, exc.expected, exc.actual) from None
            raise
        return _with_etag(self._response, order)


ChangeDep = Annotated[StatusChange, Depends()]


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
    service: OrdersDep,
    idempotency_key: IdempotencyKey = None,
) -> OrderPublic:
    created = service.create(
        customer=body.customer,
        product=body.product,
        quantity=body.quantity,
        note=body.note,
        idempotency_key=idempotency_key,
    )
    response.headers["Location"] = request.scope.get("root_path", "") + request.app.url_path_for(
        "get_order", order_id=created.order.id
    )
    if created.replayed:
        response.headers["Idempotent-Replayed"] = "true"
    return _with_etag(response, created.order)


@router.get("", summary="List orders, newest first")
def list_orders(
    service: OrdersDep,
    status: OrderStatus | None = None,
    customer: Annotated[
        str | None,
        Query(min_length=1, max_length=100, description="Exactly this customer (case matters)"),
    ] = None,
    customer_prefix: Annotated[
        str | None,
        Query(
            min_length=1,
            max_length=100,
            description="Customers whose name starts with this, in any case; they come "
            "A to Z, each one's orders newest first (with sort=created). With `customer`, "
            "both must hold",
        ),
    ] = None,
    sort: Annotated[
        OrderSort,
        Query(description="Newest first by when orders were created, or last changed"),
    ] = OrderSort.CREATED,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
    cursor: Annotated[
        str | None,
        Query(
            min_length=1,
            max_length=2048,
            description="next_cursor of the previous page, with the same filters and sort",
        ),
    ] = None,
) -> OrderList:
    page = service.list_orders(
        OrderQuery(
            status=status,
            customer=customer,
            customer_prefix=customer_prefix,
            sort=sort,
            limit=limit,
            cursor=cursor,
        )
    )
    return OrderList(
        items=[public(o) for o in page.items],
        next_cursor=page.next_cursor,
        has_more=page.has_more,
    )


@router.get(
    "/{order_id}",
    response_model=OrderPublic,
    responses={
        **problem_responses(404),
        304: {"description": "Not Modified: the ETag you sent is current"},
    },
    summary="Get an order",
)
def get_order(
    order_id: OrderId,
    response: Response,
    service: OrdersDep,
    if_none_match: IfNoneMatch = None,
) -> Response | OrderPublic:
    order = service.get(order_id)
    headers = {"ETag": etag(order), "Cache-Control": CACHE_CONTROL}
    if if_none_match is not None and none_match(if_none_match, order):
        return Response(status_code=304, headers=headers)
    response.headers.update(headers)
    return public(order)


@router.put(
    "/{order_id}/status",
    responses=problem_responses(404, 409, 412),
    summary="Move an order to another status (optional optimistic locking)",
)
def update_status(body: StatusUpdate, change: ChangeDep) -> OrderPublic:
    return change.to(body.status, body.version)


@router.post(
    "/{order_id}/cancel",
    responses=problem_responses(404, 409, 412),
    summary="Cancel a pending or confirmed order",
)
def cancel_order(change: ChangeDep, body: CancelRequest | None = None) -> OrderPublic:
    return change.to(OrderStatus.CANCELLED, body.version if body else None)


@router.get(
    "/{order_id}/events",
    responses=problem_responses(404),
    summary="Events recorded for an order and whether the bus accepted them",
)
def order_events(order_id: OrderId, service: OrdersDep) -> EventList:
    return EventList(
        items=[
            EventPublic.model_validate(e, from_attributes=True) for e in service.events(order_id)
        ]
    )
