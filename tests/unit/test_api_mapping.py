"""The API's own mapping of an order: the response body and the stored replay."""

from __future__ import annotations

from orders.api.models import OrderPublic, OrderReplay
from orders.domain.model import Order, OrderStatus


def test_the_body_shows_the_order_and_where_it_may_go() -> None:
    order = Order.create(customer="acme", product="widget", quantity=3).transition(
        OrderStatus.CONFIRMED
    )
    body = OrderPublic.from_order(order).model_dump(mode="json")
    assert list(body) == [
        "id",
        "customer",
        "product",
        "quantity",
        "note",
        "status",
        "version",
        "created_at",
        "updated_at",
        "allowed_transitions",
    ]
    assert body["status"] == "confirmed"
    assert body["version"] == 2
    assert body["note"] is None
    assert body["created_at"] == order.created_at.isoformat()
    assert body["allowed_transitions"] == ["shipped", "cancelled"]


def test_a_stored_replay_reads_back_as_the_same_order() -> None:
    codec = OrderReplay()
    order = Order.create(customer="acme", product="widget", quantity=3, note="by noon")
    stored = codec.dump(order)
    assert stored["note"] == "by noon"
    assert codec.load(stored) == order
