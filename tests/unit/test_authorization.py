"""Who may do what: the service's CallerOrders over the fakes, one principal per role."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from orders.domain.errors import CustomerRequired, Forbidden, InsufficientScope, OrderNotFound
from orders.domain.model import OrderQuery, OrderStatus
from orders.domain.principal import AUTH_DISABLED, Principal
from orders.service import CallerOrders, NewOrder, OrderService


def user(name: str, *groups: str) -> Principal:
    return Principal(
        subject=f"sub-{name}",
        client_id="ui",
        username=name,
        groups=frozenset(groups),
        scopes=frozenset({"aws.cognito.signin.user.admin"}),
    )


def machine(*scopes: str) -> Principal:
    return Principal(
        subject="machine", client_id="machine", username=None, groups=frozenset(),
        scopes=frozenset(scopes),
    )  # fmt: skip


ACME, GLOBEX, OPERATOR = user("acme"), user("globex"), user("operator", "operators")


OrdersOf = Callable[[Principal], CallerOrders]


@pytest.fixture
def orders_of(service: OrderService) -> OrdersOf:
    def view(principal: Principal) -> CallerOrders:
        return CallerOrders(service, principal)

    return view


def create(view: CallerOrders, customer: str | None = None) -> str:
    return view.create(customer=customer, product="widget", quantity=1, note=None).order.id


def test_the_roles_of_a_principal() -> None:
    assert (ACME.customer, ACME.is_operator, ACME.is_machine) == ("acme", False, False)
    assert (OPERATOR.customer, OPERATOR.is_operator) == (None, True)
    assert (machine().customer, machine().is_machine, machine().is_operator) == (None, True, False)
    assert ACME.caller_id == "user:sub-acme"
    assert machine().caller_id == "client:machine"
    # A machine cannot become an operator by carrying the group
    robot = Principal("m", "c", None, frozenset({"operators"}), frozenset())
    assert not robot.is_operator
    assert AUTH_DISABLED.is_operator


def test_a_customer_creates_for_itself_only(orders_of: OrdersOf) -> None:
    acme = orders_of(ACME)
    assert acme.get(create(acme)).customer == "acme"
    assert acme.get(create(acme, "acme")).customer == "acme"
    with pytest.raises(Forbidden):
        create(acme, "globex")


def test_operators_and_machines_name_the_customer(orders_of: OrdersOf) -> None:
    with pytest.raises(CustomerRequired):
        create(orders_of(OPERATOR))
    with pytest.raises(CustomerRequired):
        create(orders_of(machine("orders/write")))
    assert orders_of(OPERATOR).get(create(orders_of(OPERATOR), "globex")).customer == "globex"
    assert orders_of(OPERATOR).get(create(orders_of(machine("orders/write")), "acme")).customer == (
        "acme"
    )


def test_another_customers_order_is_as_if_it_did_not_exist(orders_of: OrdersOf) -> None:
    order_id = create(orders_of(ACME))
    globex = orders_of(GLOBEX)
    actions: list[Callable[[], object]] = [
        lambda: globex.get(order_id),
        lambda: globex.events(order_id),
        lambda: globex.list_attachments(order_id),
        lambda: globex.create_attachment(
            order_id, filename="a.pdf", content_type="application/pdf", size=1
        ),
        lambda: globex.change_status(order_id, OrderStatus.CANCELLED),
    ]
    for action in actions:
        with pytest.raises(OrderNotFound) as raised:
            action()
        assert str(raised.value) == str(OrderNotFound(order_id))  # the very same message
    assert orders_of(ACME).get(order_id).status is OrderStatus.PENDING


def test_a_customer_cancels_but_does_not_move_status(orders_of: OrdersOf) -> None:
    acme = orders_of(ACME)
    order_id = create(acme)
    with pytest.raises(Forbidden):
        acme.change_status(order_id, OrderStatus.CONFIRMED)
    assert acme.change_status(order_id, OrderStatus.CANCELLED).status is OrderStatus.CANCELLED


def test_an_operator_reads_and_moves_every_order(orders_of: OrdersOf) -> None:
    order_id = create(orders_of(ACME))
    operator = orders_of(OPERATOR)
    assert operator.get(order_id).customer == "acme"
    assert operator.change_status(order_id, OrderStatus.CONFIRMED).status is OrderStatus.CONFIRMED
    assert [e.detail_type for e in operator.events(order_id)] == [
        "OrderCreated", "OrderStatusChanged",
    ]  # fmt: skip


def test_a_customers_list_is_its_own_whatever_it_asks(orders_of: OrdersOf) -> None:
    create(orders_of(ACME))
    create(orders_of(GLOBEX))
    create(orders_of(GLOBEX))
    acme = orders_of(ACME)
    assert {o.customer for o in acme.list_orders(OrderQuery()).items} == {"acme"}
    assert {o.customer for o in acme.list_orders(OrderQuery(customer="acme")).items} == {"acme"}
    with pytest.raises(Forbidden):
        acme.list_orders(OrderQuery(customer="globex"))
    everyone = orders_of(OPERATOR).list_orders(OrderQuery()).items
    assert sorted(o.customer for o in everyone) == ["acme", "globex", "globex"]


@pytest.mark.parametrize(
    ("scope", "allowed"),
    [("orders/read", {"read"}), ("orders/write", {"write"}), ("", set())],
)
def test_a_machine_acts_per_scope(orders_of: OrdersOf, scope: str, allowed: set[str]) -> None:
    order_id = create(orders_of(OPERATOR), "acme")
    view = orders_of(machine(*scope.split()))
    reads: list[Callable[[], object]] = [
        lambda: view.get(order_id),
        lambda: view.list_orders(OrderQuery()),
        lambda: view.events(order_id),
        lambda: view.list_attachments(order_id),
    ]
    writes: list[Callable[[], object]] = [
        lambda: create(view, "acme"),
        lambda: view.create_attachment(
            order_id, filename="a.pdf", content_type="application/pdf", size=1
        ),
        lambda: view.change_status(order_id, OrderStatus.CONFIRMED),
    ]
    for kind, actions in (("read", reads), ("write", writes)):
        for action in actions:
            if kind in allowed:
                action()
            else:
                with pytest.raises(InsufficientScope) as raised:
                    action()
                assert raised.value.scope == f"orders/{kind}"


def test_idempotency_keys_are_scoped_by_caller(orders_of: OrdersOf) -> None:
    first = orders_of(ACME).create(
        customer=None, product="w", quantity=1, note=None, idempotency_key="k"
    )
    again = orders_of(ACME).create(
        customer=None, product="w", quantity=1, note=None, idempotency_key="k"
    )
    other = orders_of(GLOBEX).create(
        customer=None, product="w", quantity=1, note=None, idempotency_key="k"
    )
    assert again.replayed
    assert again.order.id == first.order.id
    assert not other.replayed
    assert other.order.id != first.order.id


def test_the_bare_use_cases_still_work_for_callers_that_are_not_http(
    service: OrderService,
) -> None:
    # The outbox and tests use OrderService directly; only the API must go through CallerOrders.
    assert service.create(NewOrder(customer="acme", product="w", quantity=1)).order.customer == (
        "acme"
    )
