"""What an order's events say: from -> to, when, and who made the change."""

from __future__ import annotations

from orders.domain.model import OrderStatus
from orders.service import NewOrder, OrderService


def test_the_actor_of_a_change_is_recorded_on_its_events(service: OrderService) -> None:
    created = service.create(
        NewOrder(customer="acme", product="widget", quantity=1), actor="user:u1"
    ).order
    service.change_status(created.id, OrderStatus.CONFIRMED, actor="client:c1")
    service.change_status(created.id, OrderStatus.SHIPPED)

    events = service.events(created.id)

    assert [(e.from_status, e.to_status, e.actor) for e in events] == [
        (None, "pending", "user:u1"),
        ("pending", "confirmed", "client:c1"),
        ("confirmed", "shipped", None),
    ]


def test_an_idempotent_create_records_its_actor_once(service: OrderService) -> None:
    new = NewOrder(customer="acme", product="widget", quantity=1)
    first = service.create(new, idempotency_key="k1", actor="user:u1").order
    again = service.create(new, idempotency_key="k1", actor="user:u1")

    assert again.replayed
    assert [e.actor for e in service.events(first.id)] == ["user:u1"]
