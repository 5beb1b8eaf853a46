"""Creating orders through the service: once per caller and Idempotency-Key.

Two layers keep the promise: the idempotency record (the first response replayed, a
quick answer while the first attempt runs) and the data (the key fixes the order id,
and the repository creates an id once). Each is tested here without the other.
"""

from __future__ import annotations

import pytest

from orders.domain.errors import IdempotencyConflict, IdempotencyInProgress
from orders.domain.model import OrderStatus, order_id_for
from orders.service import ANONYMOUS, NewOrder, OrderService
from tests.fakes import Fakes

NEW = NewOrder(customer="acme", product="widget", quantity=2, note="by noon")
OTHER = NewOrder(customer="acme", product="widget", quantity=3, note="by noon")
KEY = "key-1"


def test_without_a_key_each_create_is_a_new_order_with_its_created_event(
    service: OrderService, fakes: Fakes
) -> None:
    first = service.create(NEW)
    second = service.create(NEW)

    assert first.order.id != second.order.id
    assert not first.replayed
    assert not second.replayed
    stored = fakes.repository.get(first.order.id)
    assert (stored.status, stored.version, stored.note) == (OrderStatus.PENDING, 1, "by noon")
    [created] = fakes.repository.events(first.order.id)
    assert created.detail_type == "OrderCreated"
    assert created.detail["order"] == first.order.public()
    assert "previous_status" not in created.detail


def test_a_replay_returns_the_first_order_and_writes_nothing(
    service: OrderService, fakes: Fakes
) -> None:
    first = service.create(NEW, idempotency_key=KEY)
    again = service.create(NEW, idempotency_key=KEY)

    assert not first.replayed
    assert again.replayed
    assert again.order == first.order
    assert first.order.id == order_id_for(ANONYMOUS, KEY)
    assert len(fakes.repository.orders) == 1
    assert len(fakes.repository.outbox) == 1
    assert fakes.idempotency.runs == 1


def test_a_replay_answers_the_first_response_even_after_the_order_moved_on(
    service: OrderService,
) -> None:
    first = service.create(NEW, idempotency_key=KEY)
    service.change_status(first.order.id, OrderStatus.CONFIRMED)

    again = service.create(NEW, idempotency_key=KEY)

    assert (again.order.status, again.order.version) == (OrderStatus.PENDING, 1)


def test_the_same_key_with_another_body_is_a_conflict(service: OrderService, fakes: Fakes) -> None:
    service.create(NEW, idempotency_key=KEY)

    with pytest.raises(IdempotencyConflict):
        service.create(OTHER, idempotency_key=KEY)

    assert len(fakes.repository.orders) == 1


def test_keys_are_scoped_by_caller(service: OrderService, fakes: Fakes) -> None:
    mine = service.create(NEW, idempotency_key=KEY, caller="alice")
    theirs = service.create(OTHER, idempotency_key=KEY, caller="bob")

    assert mine.order.id != theirs.order.id
    assert not theirs.replayed
    assert len(fakes.repository.orders) == 2


def test_while_the_first_attempt_runs_a_second_is_told_so(
    service: OrderService, fakes: Fakes
) -> None:
    fakes.idempotency.claim(order_id_for(ANONYMOUS, KEY), NEW.payload())

    with pytest.raises(IdempotencyInProgress):
        service.create(NEW, idempotency_key=KEY)

    assert fakes.repository.orders == {}


def test_a_write_still_running_under_the_same_id_is_in_progress_and_leaves_no_record(
    service: OrderService, fakes: Fakes
) -> None:
    fakes.repository.in_progress.add(order_id_for(ANONYMOUS, KEY))

    with pytest.raises(IdempotencyInProgress):
        service.create(NEW, idempotency_key=KEY)

    # No idempotency record is left behind, so a retry once the write ends gets through.
    assert fakes.idempotency.records == {}
    fakes.repository.in_progress.clear()
    assert not service.create(NEW, idempotency_key=KEY).replayed


def test_after_the_idempotency_record_is_lost_the_data_still_creates_once(
    service: OrderService, fakes: Fakes
) -> None:
    # Given an attempt that wrote the order and died before its idempotency record was
    # kept (or a record that expired)
    first = service.create(NEW, idempotency_key=KEY)
    fakes.idempotency.records.clear()

    # When the client retries with the same body, it gets that order back
    again = service.create(NEW, idempotency_key=KEY)
    assert again.replayed
    assert again.order == first.order
    assert len(fakes.repository.outbox) == 1

    # and another body with the key is still refused, by the stored fingerprint
    fakes.idempotency.records.clear()
    with pytest.raises(IdempotencyConflict):
        service.create(OTHER, idempotency_key=KEY)
    assert len(fakes.repository.orders) == 1
