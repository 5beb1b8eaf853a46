"""Domain errors. Adapters raise them; the API turns each into one problem type.

A dependency's failure is not one of them: see orders.ports.DependencyUnavailable.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from orders.domain.model import Order


class DomainError(Exception):
    """Base of every error the service reports to a caller as a 4xx."""


class OrderNotFound(DomainError):
    def __init__(self, order_id: str) -> None:
        super().__init__(f"order {order_id} does not exist")
        self.order_id = order_id


class IllegalTransition(DomainError):
    def __init__(self, order_id: str, current: str, requested: str, allowed: list[str]) -> None:
        super().__init__(
            f"order {order_id} is {current}; it cannot become {requested}"
            + (f" (allowed: {', '.join(allowed)})" if allowed else " (it is final)")
        )
        self.current = current
        self.requested = requested
        self.allowed = allowed


class VersionConflict(DomainError):
    def __init__(self, order_id: str, expected: int, actual: int | None) -> None:
        detail = (
            f"order {order_id} is at version {actual}"
            if actual is not None
            else (f"order {order_id} was changed by another writer")
        )
        super().__init__(f"{detail}; you sent version {expected}. Re-read it and retry.")
        self.expected = expected
        self.actual = actual


class InvalidCursor(DomainError):
    def __init__(self) -> None:
        super().__init__("the cursor is not one this API issued for this query")


class IdempotencyConflict(DomainError):
    def __init__(self) -> None:
        super().__init__("this Idempotency-Key was already used with a different request body")


class IdempotencyInProgress(DomainError):
    def __init__(self) -> None:
        super().__init__("a request with this Idempotency-Key is still in progress; retry shortly")


class OrderExists(Exception):
    """The order a create targets is already stored: a replay, or a reused key.

    Not a caller-facing error: the service answers the replay or IdempotencyConflict.
    `fingerprint` is the stored request's (None for an order created without a key).
    """

    def __init__(self, order: Order, fingerprint: str | None) -> None:
        super().__init__("the order already exists")
        self.order = order
        self.fingerprint = fingerprint


class AttachmentRejected(DomainError):
    """An attachment request the policy does not allow (type, size, name)."""


class Forbidden(DomainError):
    """A verified caller without the right to this action (a 403)."""


class InsufficientScope(Forbidden):
    """A machine client's token lacks the scope this action needs (a 403 naming the scope)."""

    def __init__(self, scope: str) -> None:
        super().__init__(f"this action needs the scope {scope}")
        self.scope = scope


class CustomerRequired(DomainError):
    """An operator or machine created an order without naming the customer it is for."""

    def __init__(self) -> None:
        super().__init__("customer: required when the caller is not a customer")
