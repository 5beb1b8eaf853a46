"""Status changes through the service: every allowed and refused move, versions, races."""

from __future__ import annotations

import itertools
from collections import deque
from dataclasses import replace

import pytest

from orders.domain.errors import IllegalTransition, OrderNotFound, VersionConflict
from orders.domain.model import TRANSITIONS, Order, OrderStatus
from orders.service import CHANGE_ATTEMPTS, NewOrder, OrderService
from tests.fakes import FakeOrderRepository, Fakes

NEW = NewOrder(customer="acme", product="widget", quantity=2)
ALLOWED = [(a, b) for a, targets in TRANSITIONS.items() for b in sorted(targets)]
REFUSED = [
    (a, b) for a, b in itertools.product(OrderStatus, OrderStatus) if b not in TRANSITIONS[a]
]


def path_to(target: OrderStatus) -> list[OrderStatus]:
    """The shortest series of moves from a new order to `target`, read off TRANSITIONS."""
    paths: dict[OrderStatus, list[OrderStatus]] = {OrderStatus.PENDING: []}
    queue = deque([OrderStatus.PENDING])
    while queue:
        status = queue.popleft()
        for following in sorted(TRANSITIONS[status]):
            if following not in paths:
                paths[following] = [*paths[status], following]
                queue.append(following)
    return paths[target]


def order_in(service: OrderService, status: OrderStatus) -> Order:
    order = service.create(NEW).order
    for step in path_to(status):
        order = service.change_status(order.id, step)
    return order


def detail_types(repo: FakeOrderRepository, order_id: str) -> list[str]:
    return [e.detail_type for e in repo.events(order_id)]


def test_every_status_is_reachable_from_a_new_order() -> None:
    assert {s for s in OrderStatus if s is OrderStatus.PENDING or path_to(s)} == set(OrderStatus)


@pytest.mark.parametrize(("current", "target"), ALLOWED)
def test_an_allowed_move_stores_the_order_one_version_later_with_its_event(
    service: OrderService, fakes: Fakes, current: OrderStatus, target: OrderStatus
) -> None:
    before = order_in(service, current)

    changed = service.change_status(before.id, target, expected_version=before.version)

    assert (changed.status, changed.version) == (target, before.version + 1)
    assert fakes.repository.get(before.id) == changed
    last = fakes.repository.events(before.id)[-1]
    assert last.detail_type == "OrderStatusChanged"
    assert last.detail["previous_status"] == current.value
    assert last.detail["order"]["status"] == target.value
    assert last.detail["order"]["version"] == changed.version


@pytest.mark.parametrize(("current", "target"), REFUSED)
def test_a_refused_move_is_illegal_and_writes_nothing(
    service: OrderService, fakes: Fakes, current: OrderStatus, target: OrderStatus
) -> None:
    before = order_in(service, current)
    events_before = detail_types(fakes.repository, before.id)

    with pytest.raises(IllegalTransition) as refused:
        service.change_status(before.id, target)

    assert refused.value.current == current.value
    assert refused.value.allowed == sorted(
        (s.value for s in TRANSITIONS[current]), key=[s.value for s in OrderStatus].index
    )
    assert fakes.repository.get(before.id) == before
    assert detail_types(fakes.repository, before.id) == events_before


def test_a_stale_expected_version_is_a_conflict_naming_the_current_one(
    service: OrderService, fakes: Fakes
) -> None:
    order = order_in(service, OrderStatus.CONFIRMED)

    with pytest.raises(VersionConflict) as conflict:
        service.change_status(order.id, OrderStatus.SHIPPED, expected_version=1)

    assert (conflict.value.expected, conflict.value.actual) == (1, 2)
    assert fakes.repository.get(order.id).status is OrderStatus.CONFIRMED
    assert fakes.repository.save_attempts == 1  # the confirm; the stale change never wrote


@pytest.fixture
def confirmed_meanwhile(service: OrderService, fakes: Fakes) -> Order:
    """A pending order that another writer confirms between the service's read and write."""
    order = service.create(NEW).order
    fakes.repository.interleave(lambda: service.change_status(order.id, OrderStatus.CONFIRMED))
    return order


def test_with_an_expected_version_a_race_lost_at_the_write_is_a_conflict(
    service: OrderService, fakes: Fakes, confirmed_meanwhile: Order
) -> None:
    order_id = confirmed_meanwhile.id

    with pytest.raises(VersionConflict):
        service.change_status(order_id, OrderStatus.CANCELLED, expected_version=1)

    assert fakes.repository.get(order_id).status is OrderStatus.CONFIRMED
    assert detail_types(fakes.repository, order_id) == ["OrderCreated", "OrderStatusChanged"]


def test_without_a_precondition_a_lost_race_re_reads_and_applies_to_the_new_state(
    service: OrderService, fakes: Fakes, confirmed_meanwhile: Order
) -> None:
    cancelled = service.change_status(confirmed_meanwhile.id, OrderStatus.CANCELLED)

    # The other writer's confirm is kept, and the cancel applies on top of it.
    assert (cancelled.status, cancelled.version) == (OrderStatus.CANCELLED, 3)
    events = fakes.repository.events(confirmed_meanwhile.id)
    assert [e.detail.get("previous_status") for e in events] == [
        None,
        "pending",
        "confirmed",
    ]


def test_without_a_precondition_the_new_state_may_make_the_move_illegal(
    service: OrderService, fakes: Fakes
) -> None:
    order = service.create(NEW).order
    fakes.repository.interleave(lambda: service.change_status(order.id, OrderStatus.CANCELLED))

    with pytest.raises(IllegalTransition):
        service.change_status(order.id, OrderStatus.CONFIRMED)

    assert fakes.repository.get(order.id).status is OrderStatus.CANCELLED


def test_without_a_precondition_losing_every_attempt_is_a_conflict(
    service: OrderService, fakes: Fakes
) -> None:
    order = order_in(service, OrderStatus.CONFIRMED)
    repo = fakes.repository
    attempts_before = repo.save_attempts

    def another_writer() -> None:
        # Moves the version on and leaves the status, so every re-read may try again.
        current = repo.orders[order.id]
        repo.orders[order.id] = replace(current, version=current.version + 1)

    for _ in range(CHANGE_ATTEMPTS):
        repo.interleave(another_writer)

    with pytest.raises(VersionConflict):
        service.change_status(order.id, OrderStatus.SHIPPED)

    assert repo.save_attempts - attempts_before == CHANGE_ATTEMPTS
    assert repo.get(order.id).status is OrderStatus.CONFIRMED


def test_an_unknown_order_is_not_found_and_nothing_is_written(
    service: OrderService, fakes: Fakes
) -> None:
    with pytest.raises(OrderNotFound):
        service.change_status("0" * 32, OrderStatus.CONFIRMED)
    assert fakes.repository.save_attempts == 0
    with pytest.raises(OrderNotFound):
        service.events("0" * 32)
