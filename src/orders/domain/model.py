"""Orders and their lifecycle, as plain data and pure functions."""

from __future__ import annotations

import hashlib
import json
import uuid
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from orders.domain.errors import IllegalTransition
from orders.domain.event_schema import OrderEventDetailV1, OrderSnapshotV1


class OrderStatus(StrEnum):
    PENDING = "pending"
    CONFIRMED = "confirmed"
    SHIPPED = "shipped"
    DELIVERED = "delivered"
    CANCELLED = "cancelled"


# The whole lifecycle in one table: anything not listed is a 409.
TRANSITIONS: dict[OrderStatus, frozenset[OrderStatus]] = {
    OrderStatus.PENDING: frozenset({OrderStatus.CONFIRMED, OrderStatus.CANCELLED}),
    OrderStatus.CONFIRMED: frozenset({OrderStatus.SHIPPED, OrderStatus.CANCELLED}),
    OrderStatus.SHIPPED: frozenset({OrderStatus.DELIVERED}),
    OrderStatus.DELIVERED: frozenset(),
    OrderStatus.CANCELLED: frozenset(),
}


def allowed_next(status: OrderStatus) -> list[str]:
    """Statuses an order in `status` may move to, in lifecycle order."""
    order = list(OrderStatus)
    return sorted((s.value for s in TRANSITIONS[status]), key=lambda v: order.index(OrderStatus(v)))


def now() -> datetime:
    return datetime.now(UTC)


def new_id() -> str:
    return uuid.uuid4().hex


def order_id_for(caller: str, idempotency_key: str) -> str:
    """The id of the order a caller's Idempotency-Key creates: the same key, the same id.

    Every attempt with one key (a retry after a crash, a lost reply, a second click)
    targets one item, so the conditional write lets exactly one of them create it.
    Scoped by caller, so two callers' keys never meet. 32 hex characters, like new_id().
    """
    digest = hashlib.sha256(f"{caller}\x1f{idempotency_key}".encode()).hexdigest()
    return digest[:32]


def request_fingerprint(payload: dict[str, Any]) -> str:
    """A stable hash of a create request's fields: tells a replay from a reused key."""
    canonical = json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()


@dataclass(frozen=True, slots=True)
class Order:
    id: str
    customer: str
    product: str
    quantity: int
    status: OrderStatus
    version: int
    created_at: datetime
    updated_at: datetime
    note: str | None = None

    @classmethod
    def create(
        cls,
        *,
        customer: str,
        product: str,
        quantity: int,
        note: str | None = None,
        order_id: str | None = None,
    ) -> Order:
        at = now()
        return cls(
            id=order_id or new_id(),
            customer=customer,
            product=product,
            quantity=quantity,
            status=OrderStatus.PENDING,
            version=1,
            created_at=at,
            updated_at=at,
            note=note,
        )

    def transition(self, target: OrderStatus) -> Order:
        """The order moved to `target`, one version later; IllegalTransition if not allowed."""
        if target not in TRANSITIONS[self.status]:
            raise IllegalTransition(
                self.id, self.status.value, target.value, allowed_next(self.status)
            )
        return replace(self, status=target, version=self.version + 1, updated_at=now())

    def public(self) -> dict[str, Any]:
        """The order as a plain dict, for tests and debugging.

        Not a contract: the API body (api/models.py), the event detail
        (domain/event_schema.py) and the table item (adapters/dynamodb.py) each map
        the order themselves, so one can change without the others.
        """
        return {
            "id": self.id,
            "customer": self.customer,
            "product": self.product,
            "quantity": self.quantity,
            "note": self.note,
            "status": self.status.value,
            "version": self.version,
            "created_at": self.created_at.isoformat(),
            "updated_at": self.updated_at.isoformat(),
            "allowed_transitions": allowed_next(self.status),
        }


@dataclass(frozen=True, slots=True)
class OrderEvent:
    """A fact to publish on the bus; stored in the same transaction as the order change."""

    detail_type: str
    order_id: str
    detail: dict[str, Any]
    id: str = field(default_factory=new_id)
    occurred_at: datetime = field(default_factory=now)

    @classmethod
    def created(cls, order: Order, *, actor: str | None = None) -> OrderEvent:
        return cls._for("OrderCreated", order, previous_status=None, actor=actor)

    @classmethod
    def status_changed(
        cls, order: Order, previous: OrderStatus, *, actor: str | None = None
    ) -> OrderEvent:
        return cls._for("OrderStatusChanged", order, previous_status=previous.value, actor=actor)

    @classmethod
    def _for(
        cls, detail_type: str, order: Order, *, previous_status: str | None, actor: str | None
    ) -> OrderEvent:
        event_id = new_id()
        detail = OrderEventDetailV1(
            event_id=event_id,
            occurred_at=order.updated_at.isoformat(),
            order=OrderSnapshotV1(
                id=order.id,
                customer=order.customer,
                product=order.product,
                quantity=order.quantity,
                note=order.note,
                status=order.status.value,
                version=order.version,
                created_at=order.created_at.isoformat(),
                updated_at=order.updated_at.isoformat(),
                allowed_transitions=allowed_next(order.status),
            ),
            previous_status=previous_status,
            actor=actor,
        )
        return cls(
            detail_type=detail_type,
            order_id=order.id,
            detail=detail.detail(),
            id=event_id,
            occurred_at=order.updated_at,
        )


class OrderSort(StrEnum):
    """Which time a list is ordered by, newest first."""

    CREATED = "created"
    UPDATED = "updated"


def customer_fold(text: str) -> str:
    """A customer name (or the start of one) as the case-insensitive find compares it.

    casefold(), not lower(): "STRASSE" finds "Straße", as a person expects.
    """
    return text.casefold()


@dataclass(frozen=True, slots=True)
class OrderQuery:
    """A page request for the list endpoint.

    `customer` is the exact name; `customer_prefix` the start of one, any case; every
    filter given must hold.
    """

    status: OrderStatus | None = None
    customer: str | None = None
    customer_prefix: str | None = None
    sort: OrderSort = OrderSort.CREATED
    limit: int = 20
    cursor: str | None = None

    def binding(self) -> str:
        """What a cursor must have been issued for: every filter and the order, not the page."""
        parts = [self.status or "", self.customer or "", self.customer_prefix or "", self.sort]
        canonical = json.dumps(parts, separators=(",", ":"), ensure_ascii=False)
        return hashlib.sha256(canonical.encode()).hexdigest()[:16]


@dataclass(frozen=True, slots=True)
class OrderPage:
    """A page; next_cursor is set exactly when a next page exists (it may be empty only
    when a filtered query stopped reading early, see adapters/dynamodb.py)."""

    items: list[Order]
    next_cursor: str | None

    @property
    def has_more(self) -> bool:
        return self.next_cursor is not None


# The events that set an order's status: OrderCreated its first, the other its next.
STATUS_EVENTS = frozenset({"OrderCreated", "OrderStatusChanged"})


@dataclass(frozen=True, slots=True)
class StoredEvent:
    """An outbox record as kept beside its order: what was sent and whether the bus took it.

    The API lists it, the publisher sends it; `key` is where the repository keeps it
    (what marking it published addresses).
    """

    id: str
    order_id: str
    key: str
    detail_type: str
    occurred_at: str
    detail: dict[str, Any]
    published_at: str | None = None
    bus_event_id: str | None = None

    @property
    def at(self) -> str:
        """When it happened, ISO 8601 with its UTC offset (a naive time is read as UTC)."""
        moment = datetime.fromisoformat(self.occurred_at)
        return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).isoformat()

    @property
    def from_status(self) -> str | None:
        """The status before: on a status change only."""
        previous = self.detail.get("previous_status")
        return str(previous) if previous is not None else None

    @property
    def to_status(self) -> str | None:
        """The status after: on a status change, and the first status on a create."""
        if self.detail_type not in STATUS_EVENTS:
            return None
        order = self.detail.get("order")
        status = order.get("status") if isinstance(order, dict) else None
        return str(status) if status is not None else None

    @property
    def actor(self) -> str | None:
        """Who made the change ("user:<sub>", "client:<id>"); None before authentication."""
        actor = self.detail.get("actor")
        return str(actor) if actor is not None else None


@dataclass(frozen=True, slots=True)
class AttachmentUpload:
    attachment_id: str
    key: str
    filename: str
    url: str
    fields: dict[str, str]
    expires_in: int
    max_bytes: int


@dataclass(frozen=True, slots=True)
class Attachment:
    attachment_id: str
    filename: str
    size: int
    last_modified: str
    download_url: str
    expires_in: int
