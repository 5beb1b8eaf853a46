"""The transactional outbox: every committed order reaches the bus, even when PutEvents fails."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from fastapi import FastAPI
from fastapi.testclient import TestClient
from mypy_boto3_events import EventBridgeClient

from orders import outbox
from orders.adapters.ratelimit import RATE_PREFIX
from tests import tokens
from tests.support import REGION, stream_event

# An operator may do everything these tests do (tests/tokens.py).
AUTH = tokens.bearer("operator")


def bus_messages(queue_url: str) -> list[dict[str, Any]]:
    sqs = boto3.client("sqs", region_name=REGION)
    messages: list[dict[str, Any]] = []
    while True:
        batch = sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10).get("Messages", [])
        if not batch:
            return messages
        for message in batch:
            messages.append(json.loads(message["Body"]))
            sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"])


def only_failed(event: dict[str, Any], response: PartialItemFailureResponse) -> dict[str, Any]:
    """What the stream redelivers: the records reported as failed (Lambda resumes there)."""
    failed = {f["itemIdentifier"] for f in response["batchItemFailures"]}
    return {"Records": [r for r in event["Records"] if r["dynamodb"]["SequenceNumber"] in failed]}


@pytest.fixture
def publisher_client(aws: dict[str, str]) -> Iterator[EventBridgeClient]:
    """The outbox handler's own events client, so faults can be injected into it."""
    outbox.reset()
    publisher = outbox._outbox_publisher()
    yield publisher._publisher._client  # type: ignore[attr-defined]
    outbox.reset()


def create_orders(client: TestClient, n: int) -> list[str]:
    ids = []
    for i in range(n):
        response = client.post(
            "/api/orders", json={"customer": f"c{i}", "product": "p", "quantity": 1}
        )
        assert response.status_code == 201
        ids.append(response.json()["id"])
    return ids


@pytest.fixture
def client(app: FastAPI) -> TestClient:
    return TestClient(app, headers=AUTH)


def test_events_reach_the_bus_and_are_marked_published(
    client: TestClient, aws: dict[str, str], publisher_client: EventBridgeClient
) -> None:
    (order_id,) = create_orders(client, 1)
    client.put(f"/api/orders/{order_id}/status", json={"status": "confirmed", "version": 1})
    event, _ = stream_event()
    response = outbox.handler(event, None)
    assert response["batchItemFailures"] == []
    delivered = bus_messages(aws["queue_url"])
    assert [m["detail-type"] for m in delivered] == ["OrderCreated", "OrderStatusChanged"]
    assert all(m["source"] == "orders.service" for m in delivered)
    assert delivered[1]["detail"]["previous_status"] == "pending"
    assert all(m["detail"]["schema_version"] == "1.0" for m in delivered)
    events = client.get(f"/api/orders/{order_id}/events").json()["items"]
    assert all(e["published_at"] and e["bus_event_id"] for e in events)


def test_putevents_error_then_recovery_delivers_every_order(
    client: TestClient, aws: dict[str, str], publisher_client: EventBridgeClient
) -> None:
    ids = create_orders(client, 4)
    event, _ = stream_event()

    # Given PutEvents fails outright (after botocore's own bounded retries)
    def refuse(**_: object) -> None:
        from botocore.exceptions import ClientError

        raise ClientError(
            {"Error": {"Code": "InternalException", "Message": "bus down"}}, "PutEvents"
        )

    publisher_client.meta.events.register_first("before-call.events.PutEvents", refuse)
    response = outbox.handler(event, None)
    # Then every outbox record is reported failed and nothing reached the bus
    assert len(response["batchItemFailures"]) == 4
    assert bus_messages(aws["queue_url"]) == []

    # When the failure clears and the stream redelivers the failed records
    publisher_client.meta.events.unregister("before-call.events.PutEvents", refuse)
    retry = outbox.handler(only_failed(event, response), None)
    assert retry["batchItemFailures"] == []
    delivered = bus_messages(aws["queue_url"])
    assert sorted(m["detail"]["order"]["id"] for m in delivered) == sorted(ids)


def test_partial_failed_entry_count_is_resent(
    client: TestClient, aws: dict[str, str], publisher_client: EventBridgeClient
) -> None:
    ids = create_orders(client, 5)
    event, _ = stream_event()
    calls = {"n": 0}

    # Given the bus refuses some entries (moto reports FailedEntryCount for a non-JSON
    # Detail by itself) on the first two calls: the first send and the immediate resend.
    def corrupt_some(params: dict[str, Any], **_: object) -> None:
        calls["n"] += 1
        if calls["n"] <= 2:
            for entry in params["Entries"][::2]:
                entry["Detail"] = "not json"

    publisher_client.meta.events.register_first(
        "provide-client-params.events.PutEvents", corrupt_some
    )
    first = outbox.handler(event, None)
    refused = len(first["batchItemFailures"])
    assert 0 < refused < 5
    delivered = bus_messages(aws["queue_url"])
    # Then what the bus took is there, and the rest is reported for redelivery
    assert len(delivered) == 5 - refused

    # When the stream redelivers the failures, the bus refuses nothing any more
    second = outbox.handler(only_failed(event, first), None)
    assert second["batchItemFailures"] == []
    delivered += bus_messages(aws["queue_url"])
    assert sorted({m["detail"]["order"]["id"] for m in delivered}) == sorted(ids)


def test_handler_ignores_non_outbox_records(
    client: TestClient, aws: dict[str, str], publisher_client: EventBridgeClient
) -> None:
    (order_id,) = create_orders(client, 1)
    _, positions = stream_event()
    client.put(f"/api/orders/{order_id}/status", json={"status": "confirmed", "version": 1})
    event, _ = stream_event(after=positions)
    # The per-caller throttle's counter (orders.adapters.ratelimit) is in the stream too.
    counters = [
        r for r in event["Records"] if r["dynamodb"]["Keys"]["pk"]["S"].startswith(RATE_PREFIX)
    ]
    names = sorted(r["eventName"] for r in event["Records"] if r not in counters)
    assert names == ["INSERT", "MODIFY"]  # the event insert and the order update
    assert counters, "the handler is meant to see a counter record too"
    response = outbox.handler(event, None)
    assert response["batchItemFailures"] == []
    assert [m["detail-type"] for m in bus_messages(aws["queue_url"])] == ["OrderStatusChanged"]
