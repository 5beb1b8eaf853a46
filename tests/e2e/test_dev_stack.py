"""The system as `make dev` runs it: real processes on loopback, driven over HTTP."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.e2e.stack import DevStack, bus_events

pytestmark = pytest.mark.e2e

EVENTS_TIMEOUT_SECONDS = 20


def events_for(stack: DevStack, order_id: str, wanted: set[str]) -> dict[str, dict[str, Any]]:
    """The first event of each wanted detail-type for this order, once all arrived."""
    events = bus_events(
        stack,
        {order_id},
        lambda events: wanted <= {e["detail-type"] for e in events},
        timeout=EVENTS_TIMEOUT_SECONDS,
    )
    seen: dict[str, dict[str, Any]] = {}
    for event in events:
        seen.setdefault(event["detail-type"], event)
    return seen


def test_an_order_goes_through_api_storage_and_bus(dev_stack: DevStack) -> None:
    # As the machine client, which may act for any customer
    api = httpx.Client(base_url=f"{dev_stack.api_url}/api", timeout=10, headers=dev_stack.auth())

    # Given an order created over HTTP
    created = api.post("/orders", json={"customer": "e2e", "product": "widget", "quantity": 2})
    assert created.status_code == 201, created.text
    order = created.json()

    # Then it is listed
    listed = api.get("/orders", params={"customer": "e2e"}).json()["items"]
    assert order["id"] in [o["id"] for o in listed]

    # When it is confirmed and shipped, each from the version read
    for status in ("confirmed", "shipped"):
        moved = api.put(
            f"/orders/{order['id']}/status",
            json={"status": status},
            headers={"If-Match": f'"{order["version"]}"'},
        )
        assert moved.status_code == 200, moved.text
        order = moved.json()
    assert order["status"] == "shipped"

    # And an attachment goes up through the presigned POST and comes back through the GET
    upload = api.post(
        f"/orders/{order['id']}/attachments",
        json={"filename": "packing-list.txt", "content_type": "text/plain"},
    ).json()["upload"]
    content = b"2 x widget\n"
    posted = httpx.post(
        upload["url"],
        data=upload["fields"],
        files={"file": ("packing-list.txt", content, "text/plain")},
    )
    assert posted.status_code in (200, 201, 204), posted.text
    attachments = api.get(f"/orders/{order['id']}/attachments").json()["items"]
    assert [a["filename"] for a in attachments] == ["packing-list.txt"]
    downloaded = httpx.get(attachments[0]["download_url"])
    assert downloaded.status_code == 200
    assert downloaded.content == content

    # Then the outbox loop published both kinds of event, and the bus rule delivered them
    seen = events_for(dev_stack, order["id"], {"OrderCreated", "OrderStatusChanged"})
    assert {"OrderCreated", "OrderStatusChanged"} <= seen.keys(), seen.keys()
    assert seen["OrderCreated"]["source"] == "orders.service"
