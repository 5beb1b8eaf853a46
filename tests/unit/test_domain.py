"""The order lifecycle, without AWS."""

from __future__ import annotations

import itertools

import pytest

from orders.domain.errors import IllegalTransition
from orders.domain.model import TRANSITIONS, Order, OrderEvent, OrderStatus


def order_in(status: OrderStatus) -> Order:
    order = Order.create(customer="c", product="p", quantity=1)
    path = {
        OrderStatus.PENDING: [],
        OrderStatus.CONFIRMED: [OrderStatus.CONFIRMED],
        OrderStatus.SHIPPED: [OrderStatus.CONFIRMED, OrderStatus.SHIPPED],
        OrderStatus.DELIVERED: [OrderStatus.CONFIRMED, OrderStatus.SHIPPED, OrderStatus.DELIVERED],
        OrderStatus.CANCELLED: [OrderStatus.CANCELLED],
    }[status]
    for step in path:
        order = order.transition(step)
    return order


LEGAL = [(a, b) for a, targets in TRANSITIONS.items() for b in targets]
ILLEGAL = [
    (a, b) for a, b in itertools.product(OrderStatus, OrderStatus) if b not in TRANSITIONS[a]
]


@pytest.mark.parametrize(("current", "target"), LEGAL)
def test_legal_transition_bumps_version(current: OrderStatus, target: OrderStatus) -> None:
    order = order_in(current)
    moved = order.transition(target)
    assert moved.status is target
    assert moved.version == order.version + 1
    assert moved.updated_at >= order.updated_at


@pytest.mark.parametrize(("current", "target"), ILLEGAL)
def test_illegal_transition_is_refused(current: OrderStatus, target: OrderStatus) -> None:
    with pytest.raises(IllegalTransition) as raised:
        order_in(current).transition(target)
    assert raised.value.current == current.value
    assert sorted(raised.value.allowed) == sorted(s.value for s in TRANSITIONS[current])


def test_lifecycle_table_matches_the_documented_flow() -> None:
    assert TRANSITIONS[OrderStatus.PENDING] == {OrderStatus.CONFIRMED, OrderStatus.CANCELLED}
    assert TRANSITIONS[OrderStatus.CONFIRMED] == {OrderStatus.SHIPPED, OrderStatus.CANCELLED}
    assert TRANSITIONS[OrderStatus.SHIPPED] == {OrderStatus.DELIVERED}
    assert not TRANSITIONS[OrderStatus.DELIVERED]
    assert not TRANSITIONS[OrderStatus.CANCELLED]


@pytest.mark.parametrize("note", [None, "by noon"])
def test_the_table_item_round_trips(note: str | None) -> None:
    from dataclasses import replace

    from orders.adapters.dynamodb import order_from_item, order_item

    order = replace(order_in(OrderStatus.SHIPPED), note=note)
    assert order_from_item(order_item(order)) == order


def test_events_carry_schema_version_and_previous_status() -> None:
    order = Order.create(customer="c", product="p", quantity=2)
    created = OrderEvent.created(order)
    assert created.detail_type == "OrderCreated"
    assert created.detail["schema_version"] == "1.0"
    assert "previous_status" not in created.detail
    changed = OrderEvent.status_changed(
        order.transition(OrderStatus.CONFIRMED), OrderStatus.PENDING
    )
    assert changed.detail["previous_status"] == "pending"
    assert changed.detail["order"]["status"] == "confirmed"
    assert changed.detail["event_id"] == changed.id
