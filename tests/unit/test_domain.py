"""The order lifecycle, without AWS."""

from __future__ import annotations

import itertools
from dataclasses import replace
from datetime import datetime

import pytest

from orders.domain.errors import IllegalTransition
from orders.domain.model import TRANSITIONS, Order, OrderEvent, OrderStatus, StoredEvent


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


def test_a_stored_event_says_what_changed_when_and_by_whom() -> None:
    order = Order.create(customer="c", product="p", quantity=1)
    confirmed = order.transition(OrderStatus.CONFIRMED)
    created = _stored(OrderEvent.created(order))
    changed = _stored(OrderEvent.status_changed(confirmed, order.status, actor="user:abc"))

    assert (created.from_status, created.to_status, created.actor) == (None, "pending", None)
    assert (changed.from_status, changed.to_status, changed.actor) == (
        "pending",
        "confirmed",
        "user:abc",
    )
    assert datetime.fromisoformat(changed.at) == confirmed.updated_at
    assert changed.at.endswith("+00:00")


def test_an_event_time_without_an_offset_is_read_as_utc() -> None:
    event = replace(_stored(OrderEvent.created(_order())), occurred_at="2026-11-30T18:00:00")
    assert event.at == "2026-11-30T18:00:00+00:00"


def test_an_event_that_sets_no_status_has_no_from_or_to() -> None:
    event = replace(_stored(OrderEvent.created(_order())), detail_type="OrderNoteEdited")
    assert (event.from_status, event.to_status) == (None, None)


def _order() -> Order:
    return Order.create(customer="c", product="p", quantity=1)


def _stored(event: OrderEvent) -> StoredEvent:
    return StoredEvent(
        id=event.id,
        order_id=event.order_id,
        key="EVENT#x",
        detail_type=event.detail_type,
        occurred_at=event.occurred_at.isoformat(),
        detail=event.detail,
    )
