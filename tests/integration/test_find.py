"""Find orders: a customer's name by its start in any case, sorted by created or updated,
with has_more instead of a count, all by Query on an index (moto)."""

from __future__ import annotations

import base64
import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

import boto3
import pytest

from orders.adapters.dynamodb import DynamoOrderRepository
from orders.domain.model import Order, OrderEvent, OrderQuery, OrderSort, OrderStatus
from tests.fakes import FakeOrderRepository
from tests.support import REGION, TABLE

if TYPE_CHECKING:
    from fastapi import FastAPI
    from fastapi.testclient import TestClient


@pytest.fixture
def calls(app: FastAPI) -> list[str]:
    """The DynamoDB operations the app makes: a Scan is never one of them."""
    made: list[str] = []
    ddb = app.state.container.clients.dynamodb
    ddb.meta.events.register("before-call.dynamodb.*", lambda model, **_: made.append(model.name))
    return made


def _pages(client: TestClient, **params: Any) -> list[dict[str, Any]]:
    """Every page of a listing, following next_cursor."""
    pages = []
    cursor = None
    while True:
        page = client.get(
            "/api/orders", params={**params, **({"cursor": cursor} if cursor else {})}
        )
        assert page.status_code == 200, page.text
        pages.append(page.json())
        cursor = page.json()["next_cursor"]
        if not cursor:
            return pages


def _ids(pages: list[dict[str, Any]]) -> list[str]:
    return [o["id"] for page in pages for o in page["items"]]


def test_a_prefix_finds_customers_in_any_case_a_to_z_newest_first(
    client: TestClient, new_order: Any, calls: list[str]
) -> None:
    acme = [new_order(customer="Acme Corp") for _ in range(3)]
    acorn = new_order(customer="acorn")
    new_order(customer="globex")
    new_order(customer="ac")  # shorter than the prefix below: not a match for "acm"

    found = _pages(client, customer_prefix="ACM", limit=2)
    assert _ids(found) == [o["id"] for o in reversed(acme)]
    assert [p["has_more"] for p in found] == [True, False]

    every_ac = _ids(_pages(client, customer_prefix="ac"))
    # "ac" < "acme corp" < "acorn": customers A to Z, each one's newest first.
    assert every_ac[1:] == [*(o["id"] for o in reversed(acme)), acorn["id"]]
    assert "Scan" not in calls
    assert "Query" in calls


def test_a_prefix_with_a_status_filters_within_the_prefix(
    client: TestClient, new_order: Any
) -> None:
    a, b = new_order(customer="Initech"), new_order(customer="initech labs")
    client.post(f"/api/orders/{a['id']}/cancel")

    found = client.get(
        "/api/orders", params={"customer_prefix": "init", "status": "pending"}
    ).json()

    assert [o["id"] for o in found["items"]] == [b["id"]]
    assert found["has_more"] is False


def test_sort_updated_puts_the_last_changed_first(client: TestClient, new_order: Any) -> None:
    first, second, third = new_order(), new_order(), new_order()
    client.put(f"/api/orders/{first['id']}/status", json={"status": "confirmed"})

    by_created = _ids(_pages(client))
    by_updated = _ids(_pages(client, sort="updated", limit=2))
    confirmed_updated = client.get(
        "/api/orders", params={"sort": "updated", "status": "confirmed"}
    ).json()["items"]

    assert by_created == [third["id"], second["id"], first["id"]]
    assert by_updated == [first["id"], third["id"], second["id"]]
    assert [o["id"] for o in confirmed_updated] == [first["id"]]


def test_sort_updated_with_a_customer_or_a_prefix(client: TestClient, new_order: Any) -> None:
    old, new = new_order(customer="Umbrella"), new_order(customer="umbrella co")
    new_order(customer="other")
    client.post(f"/api/orders/{old['id']}/cancel")

    prefixed = _ids(_pages(client, customer_prefix="UMB", sort="updated"))
    exact = _ids(_pages(client, customer="Umbrella", sort="updated"))

    assert prefixed == [old["id"], new["id"]]
    assert exact == [old["id"]]


def test_has_more_is_exact_at_a_page_boundary(client: TestClient, new_order: Any) -> None:
    for _ in range(4):
        new_order()

    two_pages = _pages(client, limit=2)
    one_page = _pages(client, limit=4)

    assert [(len(p["items"]), p["has_more"]) for p in two_pages] == [(2, True), (2, False)]
    assert [(len(p["items"]), p["has_more"], p["next_cursor"]) for p in one_page] == [
        (4, False, None)
    ]


@pytest.mark.parametrize(
    ("first", "second"),
    [
        ({"customer_prefix": "ac"}, {"customer_prefix": "acm"}),
        ({"customer_prefix": "ac"}, {"customer_prefix": "ac", "sort": "updated"}),
        ({}, {"sort": "updated"}),
        ({"sort": "updated"}, {"sort": "updated", "status": "pending"}),
        ({"customer_prefix": "ac"}, {"customer_prefix": "ac", "status": "pending"}),
    ],
)
def test_a_cursor_is_bound_to_its_prefix_and_sort(
    client: TestClient, new_order: Any, first: dict[str, str], second: dict[str, str]
) -> None:
    for _ in range(3):
        new_order(customer="acme")
    cursor = client.get("/api/orders", params={**first, "limit": 1}).json()["next_cursor"]
    assert cursor

    response = client.get("/api/orders", params={**second, "limit": 1, "cursor": cursor})

    assert response.status_code == 400
    assert response.json()["type"] == "urn:orders:problem:invalid-cursor"


def test_a_hand_made_cursor_outside_the_prefix_is_400_not_a_dependency_error(
    client: TestClient, new_order: Any
) -> None:
    new_order(customer="acme")
    new_order(customer="acme")
    cursor = client.get("/api/orders", params={"customer_prefix": "ac", "limit": 1}).json()[
        "next_cursor"
    ]
    data = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    data["k"]["customer_key"] = "zzz" + data["k"]["customer_key"]
    forged = base64.urlsafe_b64encode(json.dumps(data).encode()).decode().rstrip("=")

    response = client.get(
        "/api/orders", params={"customer_prefix": "ac", "limit": 1, "cursor": forged}
    )

    assert response.status_code == 400


@pytest.mark.parametrize("sort", ["created", "updated"])
def test_customer_and_customer_prefix_together_must_both_hold(
    client: TestClient, new_order: Any, sort: str
) -> None:
    acme = new_order(customer="Acme")
    new_order(customer="Acme Corp")

    def found(prefix: str) -> list[str]:
        params = {"customer": "Acme", "customer_prefix": prefix, "sort": sort}
        return [o["id"] for o in client.get("/api/orders", params=params).json()["items"]]

    assert found("ac") == [acme["id"]]
    assert found("glob") == []


def test_backfill_gives_old_orders_the_list_keys_once(
    client: TestClient, new_order: Any, app: FastAPI
) -> None:
    """Orders stored before the keys existed are found by prefix and sort after the backfill."""
    old = new_order(customer="Legacy Ltd")
    ddb = app.state.container.clients.dynamodb
    ddb.update_item(
        TableName=TABLE,
        Key={"pk": {"S": f"ORDER#{old['id']}"}, "sk": {"S": "ORDER"}},
        UpdateExpression="REMOVE customer_key, updated_key",
    )
    assert client.get("/api/orders", params={"customer_prefix": "leg"}).json()["items"] == []
    repository = DynamoOrderRepository(table_name=TABLE, client=ddb)

    assert repository.backfill_list_keys() == 1
    assert repository.backfill_list_keys() == 0

    found = client.get("/api/orders", params={"customer_prefix": "leg"}).json()["items"]
    assert [o["id"] for o in found] == [old["id"]]
    updated = client.get("/api/orders", params={"sort": "updated"}).json()["items"]
    assert [o["id"] for o in updated] == [old["id"]]


QUERIES = [
    {},
    {"sort": OrderSort.UPDATED},
    {"customer_prefix": "AC"},
    {"customer_prefix": "ac", "sort": OrderSort.UPDATED},
    {"customer_prefix": "a", "status": OrderStatus.CONFIRMED},
    {"customer": "Acme", "customer_prefix": "acm"},
    {"status": OrderStatus.PENDING, "sort": OrderSort.UPDATED},
]


@pytest.mark.parametrize("filters", QUERIES, ids=str)
def test_the_fake_lists_as_the_table_does(aws: dict[str, str], filters: dict[str, Any]) -> None:
    """The service tier's fake keeps the adapter's order and filters, page for page."""
    table = DynamoOrderRepository(
        table_name=TABLE, client=boto3.client("dynamodb", region_name=REGION)
    )
    fake = FakeOrderRepository()
    start = datetime(2026, 1, 1, tzinfo=UTC)
    customers = ["Acme", "acme corp", "Acorn", "Globex", "ACME", "b"]
    for n, customer in enumerate(customers * 2):
        order = Order.create(customer=customer, product="p", quantity=1)
        order = replace(order, created_at=start + timedelta(minutes=n), updated_at=start)
        if n % 3 == 0:
            order = replace(
                order.transition(OrderStatus.CONFIRMED), updated_at=start + timedelta(hours=n)
            )
        for repository in (table, fake):
            repository.add(order, OrderEvent.created(order))

    def pages(repository: DynamoOrderRepository | FakeOrderRepository) -> list[list[str]]:
        found, cursor = [], None
        while True:
            page = repository.list_orders(OrderQuery(**filters, limit=2, cursor=cursor))
            found.append([o.id for o in page.items])
            if not page.has_more:
                return found
            cursor = page.next_cursor

    assert pages(table) == pages(fake)
    assert any(pages(fake))
