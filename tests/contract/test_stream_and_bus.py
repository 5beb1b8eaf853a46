"""The DynamoDB stream and EventBridge samples against what the table and the publisher really do.

moto streams the table in-process, so the samples are compared with the records
the repository's own writes produce, and the outbox handler's output is read
back from the SQS queue the bus rule targets (tests/support.create_data_plane).
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

import boto3
from fastapi.testclient import TestClient

from orders.adapters.keys import EVENT_PREFIX, order_pk
from tests import tokens
from tests.contract.conftest import ORDER_ID, samples
from tests.contract.replay import EVENTS_DIR, load_event
from tests.support import REGION, stream_event

if TYPE_CHECKING:
    from fastapi import FastAPI

    from devstack.invoke import InvocationContext
    from tests.contract.conftest import World

BATCH = EVENTS_DIR / "dynamodb/outbox-batch.json"
BUS_EVENT = EVENTS_DIR / "eventbridge/order-created.json"


def stream_records() -> list[dict[str, Any]]:
    """Every record the table's stream holds, in the form Lambda delivers them."""
    records: list[dict[str, Any]] = stream_event()[0]["Records"]
    return records


def last_record(records: list[dict[str, Any]], name: str, pk: str, sk: str) -> dict[str, Any]:
    matching = [
        r
        for r in records
        if r["eventName"] == name and r["dynamodb"]["Keys"] == {"pk": {"S": pk}, "sk": {"S": sk}}
    ]
    assert matching, (name, pk, sk)
    return matching[-1]


def drain(world: World) -> list[dict[str, Any]]:
    """Take every message off the bus's target queue; their bodies."""
    sqs = boto3.client("sqs", region_name=REGION)
    bodies: list[dict[str, Any]] = []
    while True:
        messages = sqs.receive_message(QueueUrl=world.queue_url, MaxNumberOfMessages=10).get(
            "Messages", []
        )
        if not messages:
            return bodies
        for message in messages:
            bodies.append(json.loads(message["Body"]))
            sqs.delete_message(QueueUrl=world.queue_url, ReceiptHandle=message["ReceiptHandle"])


def _image(record: dict[str, Any]) -> dict[str, Any]:
    image: dict[str, Any] = record["dynamodb"]["NewImage"]
    return image


def _key(record: dict[str, Any]) -> tuple[str, str]:
    keys = record["dynamodb"]["Keys"]
    return keys["pk"]["S"], keys["sk"]["S"]


def test_sample_batch_is_what_the_table_streams_for_a_new_order(world: World) -> None:
    # Given the sample batch, and the table after the repository stored ORDER_ID
    # with its OrderCreated outbox item (the world's seed, at the sample's times and ids)
    sample = load_event(BATCH)["Records"]
    streamed = stream_records()
    for record in (r for r in sample if r["eventName"] == "INSERT"):
        # Then each INSERT of the sample is what the stream delivered, image for image
        real = last_record(streamed, "INSERT", *_key(record))
        assert _image(real) == _image(record)
        assert set(real) <= set(record)
        assert set(real["dynamodb"]) == set(record["dynamodb"])


def test_outbox_handler_publishes_the_outbox_insert_and_ignores_the_rest(
    world: World, lambda_context: InvocationContext
) -> None:
    from orders import outbox

    drain(world)
    batch = load_event(BATCH)
    outbox_insert = next(
        r
        for r in batch["Records"]
        if r["eventName"] == "INSERT" and _image(r)["sk"]["S"].startswith(EVENT_PREFIX)
    )
    # When the stream delivers the sample batch
    result = outbox.handler(batch, lambda_context)  # type: ignore[arg-type]
    # Then only the outbox INSERT reaches the bus, once, and nothing is retried
    assert result == {"batchItemFailures": []}
    delivered = drain(world)
    assert len(delivered) == 1
    event = delivered[0]
    assert event["source"] == "orders.service"
    assert event["detail-type"] == "OrderCreated"
    assert event["detail"] == json.loads(_image(outbox_insert)["detail"]["S"])
    # And the outbox item records the bus's receipt: the MODIFY the sample ends with
    stored = world.item(*_key(outbox_insert))
    assert stored is not None
    assert stored["bus_event_id"]["S"]
    modify = last_record(stream_records(), "MODIFY", *_key(outbox_insert))
    sample_modify = next(r for r in batch["Records"] if r["eventName"] == "MODIFY")
    assert set(_image(modify)) == set(_image(sample_modify))
    assert modify["dynamodb"]["OldImage"] == sample_modify["dynamodb"]["OldImage"]


def _shape(value: Any) -> Any:
    """Keys and value types, not values: what a consumer's parser depends on."""
    if isinstance(value, dict):
        return {k: _shape(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_shape(v) for v in value[:1]]
    return type(value).__name__


def test_eventbridge_sample_has_the_shape_consumers_receive(
    world: World, direct_app: FastAPI, lambda_context: InvocationContext
) -> None:
    from orders import outbox

    drain(world)
    # Given an order created through the API, and its stream records
    created = TestClient(direct_app, headers=tokens.bearer("globex")).post(
        "/api/orders", json={"customer": "globex", "product": "gadget", "quantity": 2}
    )
    assert created.status_code == 201
    pk = order_pk(created.json()["id"])
    records = [r for r in stream_records() if r["dynamodb"]["Keys"]["pk"]["S"] == pk]
    assert [r["eventName"] for r in records] == ["INSERT", "INSERT"]  # the order, its outbox item
    # When the outbox handler gets them, as Lambda would deliver them
    assert outbox.handler({"Records": records}, lambda_context) == {"batchItemFailures": []}  # type: ignore[arg-type]
    # Then the consumer's event has the sample's shape, key for key and type for type
    (received,) = drain(world)
    sample = load_event(BUS_EVENT)
    # moto's SQS delivery leaves out "account", which EventBridge always sends.
    assert _shape({"account": "123456789012", **received}) == _shape(sample)
    assert received["source"] == sample["source"]
    assert received["detail-type"] == sample["detail-type"]
    assert received["detail"]["schema_version"] == sample["detail"]["schema_version"]
    assert received["detail"]["event_id"] != sample["detail"]["event_id"]  # a real, new event


def test_eventbridge_sample_is_the_event_of_the_batchs_outbox_item() -> None:
    sample = load_event(BUS_EVENT)
    details = [
        json.loads(_image(r)["detail"]["S"])
        for r in load_event(BATCH)["Records"]
        if r["eventName"] == "INSERT" and "detail" in _image(r)
    ]
    assert details == [sample["detail"]]
    assert sample["detail"]["order"]["id"] == ORDER_ID == samples.ORDER_ID
