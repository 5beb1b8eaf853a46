"""The UI reads the API's answers with the API's own response models, tolerant of fields it
does not know yet (a newer API during a rolling deploy).

Order, OrderPage, Attachment, UploadTarget, Event and Readiness are the API's models
(orders.api.models) subclassed with extra="ignore", so their fields are the published ones
by construction. Here they read what the real app answers, with a field added to every
object of it, through the UI's own client.
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from pydantic import BaseModel

from orders.app import create_app
from tests import tokens
from tests.fakes import Fakes
from ui import client

LATER = "added_in_a_later_version"


def _newer(value: Any) -> Any:
    """`value` as a newer API could send it: one more field in every object."""
    if isinstance(value, dict):
        return {**{k: _newer(v) for k, v in value.items()}, LATER: "x"}
    if isinstance(value, list):
        return [_newer(v) for v in value]
    return value


@pytest.fixture
def fakes() -> Fakes:
    return Fakes()


@pytest.fixture
def api(fakes: Fakes) -> TestClient:
    return TestClient(
        create_app(fakes.container(), trace_requests=False), headers=tokens.bearer("operator")
    )


@pytest.fixture
def newer_api(api: TestClient) -> tuple[client.OrdersClient, list[dict[str, Any]]]:
    """The UI's client in front of the app, every JSON answer with an extra field in each
    object; and the bodies it was sent, to check the extra field really went out."""
    sent: list[dict[str, Any]] = []

    def answer(request: httpx.Request) -> httpx.Response:
        response = api.request(
            request.method,
            request.url.path,
            params=request.url.params,
            content=request.content,
            headers={k: v for k, v in request.headers.items() if k.lower() != "authorization"},
        )
        body = _newer(response.json())
        sent.append(body)
        headers = {k: v for k, v in response.headers.items() if k.lower() != "content-length"}
        return httpx.Response(response.status_code, json=body, headers=headers)

    return client.OrdersClient("http://api.test", transport=httpx.MockTransport(answer)), sent


def test_an_order_from_a_newer_api_is_read(
    newer_api: tuple[client.OrdersClient, list[dict[str, Any]]],
) -> None:
    ui, sent = newer_api

    created = ui.create_order(customer="acme", product="widget", quantity=2, idempotency_key="k")
    moved = ui.change_status(created.order.id, status="confirmed", version=1)
    again = ui.get_order(created.order.id)
    events = ui.events(again.id)
    ready = ui.ready()

    assert all(LATER in body for body in sent), sent
    assert (created.order.customer, created.order.quantity, created.order.status) == (
        "acme",
        2,
        "pending",
    )
    assert created.order.allowed_transitions == ["confirmed", "cancelled"]
    assert moved == again
    assert (again.status, again.version) == ("confirmed", 2)
    assert LATER not in again.model_dump()
    assert [(e.detail_type, e.from_status, e.to_status) for e in events] == [
        ("OrderCreated", None, "pending"),
        ("OrderStatusChanged", "pending", "confirmed"),
    ]
    assert ready.ok


def test_a_page_from_a_newer_api_is_read(
    newer_api: tuple[client.OrdersClient, list[dict[str, Any]]],
) -> None:
    ui, sent = newer_api
    ids = {
        ui.create_order(
            customer="acme", product="widget", quantity=n, idempotency_key=f"k{n}"
        ).order.id
        for n in (1, 2)
    }

    page = ui.list_orders(limit=1)
    rest = ui.list_orders(limit=1, cursor=page.next_cursor)

    assert LATER in sent[-1]["items"][0]
    assert (page.has_more, rest.has_more) == (True, False)
    assert {page.items[0].id, rest.items[0].id} == ids
    assert all(isinstance(item, client.Order) for item in [*page.items, *rest.items])


def test_an_upload_and_its_attachment_from_a_newer_api_are_read(
    newer_api: tuple[client.OrdersClient, list[dict[str, Any]]], fakes: Fakes
) -> None:
    ui, sent = newer_api
    order = ui.create_order(customer="acme", product="widget", quantity=1, idempotency_key="k")

    target = ui.request_upload(
        order.order.id, filename="a b.pdf", content_type="application/pdf", size=3
    )
    fakes.attachments.upload(order.order.id, fakes.attachments.presigned[-1], 3)
    [attachment] = ui.attachments(order.order.id)

    assert LATER in sent[-2]["upload"]
    assert target.upload.fields["Content-Type"] == "application/pdf"
    assert (target.attachment_id, target.filename) == (attachment.attachment_id, "a b.pdf")
    assert (attachment.filename, attachment.size) == ("a b.pdf", 3)


@pytest.fixture(scope="module")
def schemas() -> dict[str, Any]:
    api = TestClient(
        create_app(Fakes().container(), trace_requests=False), headers=tokens.bearer("operator")
    )
    return dict(api.get("/api/openapi.json").json()["components"]["schemas"])


def test_the_ui_reads_the_published_shapes_themselves(schemas: dict[str, Any]) -> None:
    """The subclasses add no field and drop none: the API's fields, required as it says."""
    read_with: list[tuple[type[BaseModel], str]] = [
        (client.Order, "OrderPublic"),
        (client.OrderPage, "OrderList"),
        (client.Attachment, "AttachmentPublic"),
        (client.UploadTarget, "AttachmentUploadPublic"),
        (client.PresignedUpload, "PresignedPost"),
        (client.Event, "EventPublic"),
        (client.Readiness, "Readiness"),
    ]
    for ui_type, name in read_with:
        own = ui_type.model_json_schema()
        assert list(own["properties"]) == list(schemas[name]["properties"]), name
        assert own["required"] == schemas[name]["required"], name
