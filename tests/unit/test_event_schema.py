"""The event detail's schema (version 1.0) against the committed bus sample."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from pydantic import ValidationError

from orders.domain.event_schema import OrderEventDetailV1
from orders.domain.model import Order, OrderEvent, OrderStatus

SAMPLE = Path(__file__).resolve().parents[2] / "events/eventbridge/order-created.json"


def test_the_bus_sample_is_a_version_1_detail_and_survives_a_round_trip() -> None:
    detail = json.loads(SAMPLE.read_text())["detail"]
    parsed = OrderEventDetailV1.model_validate(detail)
    assert parsed.schema_version == "1.0"
    assert parsed.detail() == detail
    assert list(parsed.detail()) == list(detail)


def test_an_unknown_field_is_not_version_1() -> None:
    detail = json.loads(SAMPLE.read_text())["detail"]
    with pytest.raises(ValidationError):
        OrderEventDetailV1.model_validate({**detail, "surprise": 1})


def test_previous_status_appears_only_on_a_status_change() -> None:
    order = Order.create(customer="c", product="p", quantity=1)
    created = OrderEvent.created(order)
    changed = OrderEvent.status_changed(order.transition(OrderStatus.CONFIRMED), order.status)
    assert "previous_status" not in created.detail
    assert changed.detail["previous_status"] == "pending"
    assert changed.detail["order"]["status"] == "confirmed"
    OrderEventDetailV1.model_validate(changed.detail)


def test_actor_is_an_optional_field_left_out_when_unknown() -> None:
    """Adding it kept 1.0: a detail without it validates, and none is written as null."""
    order = Order.create(customer="c", product="p", quantity=1)
    anonymous = OrderEvent.created(order)
    signed_in = OrderEvent.status_changed(
        order.transition(OrderStatus.CONFIRMED), order.status, actor="client:machine"
    )
    assert "actor" not in anonymous.detail
    assert signed_in.detail["actor"] == "client:machine"
    assert OrderEventDetailV1.model_validate(anonymous.detail).actor is None
    assert OrderEventDetailV1.model_validate(signed_in.detail).detail() == signed_in.detail
