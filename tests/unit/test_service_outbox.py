"""Outbox publishing: refused entries are sent again once, the rest go back to the stream."""

from __future__ import annotations

import json
from typing import Any

import pytest

from orders.adapters.dynamodb import event_item, order_item
from orders.domain.model import OrderStatus, StoredEvent
from orders.outbox import outbox_publisher, publish_batch
from orders.publishing import OutboxPublisher
from orders.service import NewOrder, OrderService
from tests.fakes import Fakes
from tests.logs import captured_logs


@pytest.fixture
def outbox(fakes: Fakes) -> OutboxPublisher:
    return outbox_publisher(fakes.container())


@pytest.fixture
def records(service: OrderService, fakes: Fakes) -> list[StoredEvent]:
    """Three new outbox events, as the stream would deliver them."""
    first = service.create(NewOrder(customer="acme", product="widget", quantity=1)).order
    service.change_status(first.id, OrderStatus.CONFIRMED)
    service.create(NewOrder(customer="globex", product="gadget", quantity=2))
    return fakes.repository.unpublished()


def sent_event_ids(call: list[dict[str, Any]]) -> list[str]:
    return [json.loads(entry["Detail"])["event_id"] for entry in call]


def receipts(fakes: Fakes) -> dict[str, str | None]:
    return {item.event.id: item.bus_event_id for item in fakes.repository.outbox}


def test_every_accepted_record_is_sent_once_and_marked_with_the_bus_receipt(
    outbox: OutboxPublisher, fakes: Fakes, records: list[StoredEvent]
) -> None:
    failed = outbox.publish(records)

    assert failed == set()
    [call] = fakes.publisher.calls
    assert sent_event_ids(call) == [r.id for r in records]
    assert {e["Source"] for e in call} == {"orders.service"}
    assert [e["DetailType"] for e in call] == [r.detail_type for r in records]
    assert all(receipts(fakes).values())
    assert fakes.repository.unpublished() == []


@pytest.mark.parametrize(("refusals", "reaches_the_bus"), [(1, True), (2, False)])
def test_a_refused_entry_is_sent_again_once_alone_then_reported(
    outbox: OutboxPublisher,
    fakes: Fakes,
    records: list[StoredEvent],
    refusals: int,
    reaches_the_bus: bool,
) -> None:
    refused = records[1]
    fakes.publisher.refuse(refused.id, times=refusals)

    failed = outbox.publish(records)

    # Sent with the others, then once more on its own; never a third time.
    assert [sent_event_ids(c) for c in fakes.publisher.calls] == [
        [r.id for r in records],
        [refused.id],
    ]
    left = [] if reaches_the_bus else [refused.id]
    assert failed == set(left)
    assert [e.id for e in fakes.repository.unpublished()] == left


def test_each_event_is_logged_by_its_ids_with_the_bus_receipt_or_as_not_published(
    outbox: OutboxPublisher, fakes: Fakes, records: list[StoredEvent]
) -> None:
    refused = records[0]
    fakes.publisher.refuse(refused.id, times=2)

    with captured_logs() as stream:
        outbox.publish(records)

    lines = [json.loads(line) for line in stream.getvalue().splitlines()]
    by_event = {line["event_id"]: line for line in lines if "event_id" in line}
    assert set(by_event) == {r.id for r in records}
    for record in records:
        line = by_event[record.id]
        assert (line["order_id"], line["detail_type"]) == (record.order_id, record.detail_type)
        if record is refused:
            assert (line["level"], line["message"]) == ("ERROR", "outbox event not published")
        else:
            assert line["message"] == "outbox event published"
            assert line["bus_event_id"] == receipts(fakes)[record.id]


def test_a_bus_outage_on_both_attempts_reports_every_record(
    outbox: OutboxPublisher, fakes: Fakes, records: list[StoredEvent]
) -> None:
    fakes.publisher.outages.fail("publish", times=2)

    assert outbox.publish(records) == {r.id for r in records}
    assert fakes.publisher.accepted == []
    assert len(fakes.repository.unpublished()) == len(records)


def test_a_bus_outage_on_the_first_attempt_only_is_covered_by_the_resend(
    outbox: OutboxPublisher, fakes: Fakes, records: list[StoredEvent]
) -> None:
    fakes.publisher.outages.fail("publish", times=1)

    assert outbox.publish(records) == set()
    assert len(fakes.publisher.accepted) == len(records)


def test_an_event_on_the_bus_is_not_resent_when_only_its_receipt_cannot_be_stored(
    outbox: OutboxPublisher, fakes: Fakes, records: list[StoredEvent]
) -> None:
    fakes.repository.outages.fail("mark_published")

    assert outbox.publish(records) == set()
    assert len(fakes.publisher.calls) == 1
    assert len(fakes.publisher.accepted) == len(records)


def stream_record(name: str, image: dict[str, Any], sequence_number: str) -> dict[str, Any]:
    """A record of the table's stream as Lambda delivers it: a change to one item."""
    return {
        "eventID": f"event-{sequence_number}",
        "eventName": name,
        "eventSource": "aws:dynamodb",
        "dynamodb": {
            "Keys": {"pk": image["pk"], "sk": image["sk"]},
            "NewImage": image,
            "SequenceNumber": sequence_number,
            "StreamViewType": "NEW_AND_OLD_IMAGES",
        },
    }


def test_the_stream_handler_reports_only_the_records_the_bus_would_not_take(
    service: OrderService, fakes: Fakes, outbox: OutboxPublisher
) -> None:
    # Given a batch: two outbox INSERTs, the order's own INSERT, and a MODIFY of an
    # outbox item (what marking it published looks like on the stream)
    order = service.create(NewOrder(customer="acme", product="widget", quantity=1)).order
    service.change_status(order.id, OrderStatus.CONFIRMED)
    created, confirmed = fakes.repository.outbox
    event = {
        "Records": [
            stream_record("INSERT", event_item(created.event), created.sequence_number),
            stream_record("INSERT", order_item(order), "100"),
            stream_record("INSERT", event_item(confirmed.event), confirmed.sequence_number),
            stream_record("MODIFY", event_item(created.event), "101"),
        ]
    }
    fakes.publisher.refuse(confirmed.event.id, times=2)

    # When the handler publishes it
    response = publish_batch(event, outbox)

    # Then only the refused outbox record is failed back to the stream
    assert response["batchItemFailures"] == [{"itemIdentifier": confirmed.sequence_number}]
    assert sent_event_ids(fakes.publisher.calls[0]) == [created.event.id, confirmed.event.id]
    assert created.bus_event_id is not None
    assert confirmed.bus_event_id is None
