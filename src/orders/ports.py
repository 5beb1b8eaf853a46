"""What the service needs from the outside world. Adapters implement these; tests fake them.

Every port may raise DependencyUnavailable: the one failure that belongs to no rule of
the domain, only to the dependency behind the port.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from collections.abc import Callable

    from orders.domain.model import (
        Attachment,
        AttachmentUpload,
        Order,
        OrderEvent,
        OrderPage,
        OrderQuery,
        StoredEvent,
    )


class DependencyUnavailable(Exception):
    """A dependency failed after the bounded retries: a 503, not the caller's fault."""

    def __init__(self, dependency: str, operation: str, reason: str) -> None:
        super().__init__(f"{dependency} {operation} failed: {reason}")
        self.dependency = dependency
        self.operation = operation
        self.reason = reason


class OrderRepository(Protocol):
    def add(self, order: Order, event: OrderEvent, *, fingerprint: str | None = None) -> None:
        """Store a new order and its event in one transaction, only if the id is free.

        OrderExists (the stored order and its request fingerprint) when it is taken;
        IdempotencyInProgress while another write to the same new order is running.
        """

    def get(self, order_id: str) -> Order:
        """The order, or OrderNotFound."""

    def save_transition(self, order: Order, *, expected_version: int, event: OrderEvent) -> None:
        """Store the changed order and its event atomically, only if still at expected_version."""

    def list_orders(self, query: OrderQuery) -> OrderPage:
        """A page of orders, newest first, by key or index queries only."""

    def events(self, order_id: str) -> list[StoredEvent]:
        """The outbox records of an order, oldest first."""

    def mark_published(self, event: StoredEvent, *, bus_event_id: str) -> None:
        """Record that the bus accepted an outbox record."""

    def ping(self) -> None:
        """Raise DependencyUnavailable when the table cannot be reached."""


class AttachmentStore(Protocol):
    def presign_upload(
        self, *, order_id: str, filename: str, content_type: str, max_bytes: int
    ) -> AttachmentUpload:
        """A presigned POST the client uploads one file with."""

    def list_attachments(self, order_id: str) -> list[Attachment]:
        """The order's attachments with presigned download URLs."""

    def ping(self) -> None:
        """Raise DependencyUnavailable when the bucket cannot be reached."""


class EventPublisher(Protocol):
    def publish(self, entries: list[dict[str, Any]]) -> list[str | None]:
        """Send entries; per entry the bus's event id, or None where the bus refused it."""

    def ping(self) -> None:
        """Raise DependencyUnavailable when the bus cannot be reached."""


class Idempotency(Protocol):
    def run(
        self, *, key: str, payload: dict[str, Any], operation: Callable[[], dict[str, Any]]
    ) -> tuple[dict[str, Any], bool]:
        """Run operation once per key; a replay returns (stored result, True).

        The same key with another payload raises IdempotencyConflict.
        """


class ReplayCodec(Protocol):
    """What an idempotent create stores for its replay, and the order read back from it.

    The stored result is the response body, so the API supplies it (api/models.py):
    the use case stays free of HTTP and the domain keeps no body shape of its own.
    """

    def dump(self, order: Order) -> dict[str, Any]: ...

    def load(self, stored: dict[str, Any]) -> Order: ...


class KeySource(Protocol):
    def fetch(self) -> dict[str, Any]:
        """The token issuer's JWKS document (`{"keys": [...]}`).

        DependencyUnavailable when the issuer cannot be reached or answers nonsense.
        """
