"""The system as `make dev` runs it: real processes on loopback, driven over HTTP."""

from __future__ import annotations

import json
import time
from typing import Any

import boto3
import httpx
import pytest

from tests.e2e.stack import DevStack

pytestmark = pytest.mark.e2e

EVENTS_TIMEOUT_SECONDS = 20


def sqs(stack: DevStack) -> Any:
    return boto3.session.Session(
        aws_access_key_id="testing", aws_secret_access_key="testing", region_name="us-east-1"
    ).client("sqs", endpoint_url=stack.endpoint_url)


def events_for(stack: DevStack, order_id: str, wanted: set[str]) -> dict[str, dict[str, Any]]:
    """Poll the rule's target queue until every wanted detail-type arrived for this order."""
    client, seen = sqs(stack), dict[str, dict[str, Any]]()
    deadline = time.monotonic() + EVENTS_TIMEOUT_SECONDS
    while time.monotonic() < deadline and not wanted <= seen.keys():
        messages = client.receive_message(
            QueueUrl=stack.outputs["EventsQueueUrl"], MaxNumberOfMessages=10, WaitTimeSeconds=1
        ).get("Messages", [])
        for message in messages:
            event = json.loads(message["Body"])
            if event["detail"]["order"]["id"] == order_id:
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
