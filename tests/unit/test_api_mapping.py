"""The API's own mapping of an order: the response body and the stored replay."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from orders.api.models import OrderPublic, OrderReplay
from orders.app import create_app
from orders.domain.filenames import FILENAME_PATTERN, MAX_FILENAME_LENGTH
from orders.domain.model import Order, OrderStatus
from tests import tokens
from tests.fakes import Fakes

# The body's fields, in order: all of them always sent (none has a default).
FIELDS = [
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


def test_the_body_shows_the_order_and_where_it_may_go() -> None:
    order = Order.create(customer="acme", product="widget", quantity=3).transition(
        OrderStatus.CONFIRMED
    )
    body = OrderPublic.from_order(order).model_dump(mode="json")
    assert list(body) == FIELDS
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


# ------------------------------------------------ the limits a client reads from OpenAPI


@pytest.fixture(scope="module")
def api() -> TestClient:
    return TestClient(
        create_app(Fakes().container(), trace_requests=False), headers=tokens.bearer("operator")
    )


@pytest.fixture(scope="module")
def schemas(api: TestClient) -> dict[str, Any]:
    return dict(api.get("/api/openapi.json").json()["components"]["schemas"])


def _text_limits(prop: dict[str, Any]) -> tuple[int, int]:
    string = next(s for s in prop.get("anyOf", [prop]) if s.get("type") == "string")
    return string.get("minLength", 0), string["maxLength"]


@pytest.mark.parametrize("field", ["customer", "product", "note"])
def test_the_published_text_limits_are_the_ones_enforced(
    api: TestClient, schemas: dict[str, Any], field: str
) -> None:
    """A UI validates with the schema's numbers: the API must accept and refuse exactly there."""
    low, high = _text_limits(schemas["OrderCreate"]["properties"][field])
    base = {"customer": "acme", "product": "widget", "quantity": 1}

    assert api.post("/api/orders", json={**base, field: "x" * high}).status_code == 201
    too_long = api.post("/api/orders", json={**base, field: "x" * (high + 1)})
    assert too_long.status_code == 422
    assert too_long.json()["errors"][0]["field"] == field
    if low > 0:
        assert api.post("/api/orders", json={**base, field: "x" * low}).status_code == 201
        assert api.post("/api/orders", json={**base, field: ""}).status_code == 422


def test_the_published_quantity_bounds_are_the_ones_enforced(
    api: TestClient, schemas: dict[str, Any]
) -> None:
    quantity = schemas["OrderCreate"]["properties"]["quantity"]
    # An integer above exclusiveMinimum 0 is at least 1 (the schema keeps the shape it had).
    low, high = int(quantity["exclusiveMinimum"]) + 1, int(quantity["maximum"])
    base = {"customer": "acme", "product": "widget"}

    for accepted in (low, high):
        assert api.post("/api/orders", json={**base, "quantity": accepted}).status_code == 201
    for refused in (low - 1, high + 1):
        assert api.post("/api/orders", json={**base, "quantity": refused}).status_code == 422


def test_the_filename_rules_are_published_as_the_domain_spells_them(
    api: TestClient, schemas: dict[str, Any]
) -> None:
    filename = schemas["AttachmentCreate"]["properties"]["filename"]
    assert (filename["minLength"], filename["maxLength"]) == (1, MAX_FILENAME_LENGTH)
    assert filename["pattern"] == FILENAME_PATTERN
    assert "'/'" in filename["description"]
    order_id = api.post(
        "/api/orders", json={"customer": "acme", "product": "widget", "quantity": 1}
    ).json()["id"]
    for name, status in [("x" * MAX_FILENAME_LENGTH, 201), ("x" * (MAX_FILENAME_LENGTH + 1), 422)]:
        response = api.post(
            f"/api/orders/{order_id}/attachments",
            json={"filename": name, "content_type": "application/pdf"},
        )
        assert response.status_code == status


def test_the_list_parameters_publish_their_limits_and_choices(api: TestClient) -> None:
    doc = api.get("/api/openapi.json").json()
    params = {p["name"]: p for p in doc["paths"]["/api/orders"]["get"]["parameters"]}
    assert _text_limits(params["customer_prefix"]["schema"]) == (1, 100)
    sort = doc["components"]["schemas"][params["sort"]["schema"]["$ref"].rsplit("/", 1)[-1]]
    assert sort["enum"] == ["created", "updated"]
    assert params["sort"]["schema"]["default"] == "created"
    assert (params["limit"]["schema"]["minimum"], params["limit"]["schema"]["maximum"]) == (1, 100)


def _string(title: str) -> dict[str, str]:
    return {"type": "string", "title": title}


# OrderPublic as /openapi.json published it before from_order/to_order were made from the
# model's own fields (a datetime turned into the same ISO string by a validator): clients
# and the UI read this shape, so the refactor must not move a word of it.
ORDER_PUBLIC_SCHEMA = {
    "title": "OrderPublic",
    "description": "An order as the API shows it (and as an idempotent create replays it).",
    "type": "object",
    "properties": {
        "id": _string("Id"),
        "customer": _string("Customer"),
        "product": _string("Product"),
        "quantity": {"type": "integer", "title": "Quantity"},
        "note": {"anyOf": [{"type": "string"}, {"type": "null"}], "title": "Note"},
        "status": {"$ref": "#/components/schemas/OrderStatus"},
        "version": {"type": "integer", "title": "Version"},
        "created_at": _string("Created At"),
        "updated_at": _string("Updated At"),
        "allowed_transitions": {
            "items": {"$ref": "#/components/schemas/OrderStatus"},
            "type": "array",
            "title": "Allowed Transitions",
        },
    },
    "required": FIELDS,
}


def test_the_published_order_is_the_shape_clients_read(schemas: dict[str, Any]) -> None:
    assert schemas["OrderPublic"] == ORDER_PUBLIC_SCHEMA
    assert "OrderPublic-Output" not in schemas  # one schema for it, not an input/output pair


def test_a_body_read_back_keeps_the_offset_of_its_times() -> None:
    """created_at/updated_at cross the wire as ISO strings and come back as the same instant."""
    order = Order.create(customer="acme", product="widget", quantity=1)
    body = OrderPublic.from_order(order)
    assert body.created_at == order.created_at.isoformat()
    assert body.created_at.endswith("+00:00")
    assert body.to_order().updated_at == order.updated_at
    assert body.to_order().updated_at.tzinfo is not None
