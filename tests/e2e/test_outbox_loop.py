"""The local outbox loop gives the handler what Lambda's event source mapping would.

In-process moto (no server): these check the loop's contract, fast.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

import boto3
import pytest
from aws_lambda_powertools.utilities.data_classes import DynamoDBStreamEvent
from botocore.exceptions import ClientError

from devstack.outbox_loop import MAX_RETRY_ATTEMPTS, OutboxLoop, matches_filter, sqs_sender
from tests.integration.test_outbox import bus_messages
from tests.support import TABLE

if TYPE_CHECKING:
    from collections.abc import Callable
    from pathlib import Path


class Recorder:
    """A handler that records each batch and fails the sequence numbers it is told to."""

    def __init__(self, fail: Callable[[int, dict[str, Any]], bool] = lambda call, record: False):
        self.batches: list[list[dict[str, Any]]] = []
        self.fail = fail

    def __call__(self, event: dict[str, Any], context: Any) -> dict[str, Any]:
        call = len(self.batches)
        self.batches.append(event["Records"])
        failed = [r for r in event["Records"] if self.fail(call, r)]
        return {
            "batchItemFailures": [
                {"itemIdentifier": r["dynamodb"]["SequenceNumber"]} for r in failed
            ]
        }

    def sort_keys(self, batch: int) -> list[str]:
        return [r["dynamodb"]["Keys"]["sk"]["S"] for r in self.batches[batch]]


@pytest.fixture
def table(aws: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    monkeypatch.setenv("AWS_ACCOUNT_ID_ENDPOINT_MODE", "disabled")
    ddb = boto3.client("dynamodb", region_name="us-east-1")
    return {
        "client": ddb,
        "streams": boto3.client("dynamodbstreams", region_name="us-east-1"),
        "stream_arn": ddb.describe_table(TableName=TABLE)["Table"]["LatestStreamArn"],
    }


def put(table: dict[str, Any], sort_key: str) -> None:
    table["client"].put_item(
        TableName=TABLE, Item={"pk": {"S": "ORDER#1"}, "sk": {"S": sort_key}, "n": {"N": "1"}}
    )


def loop(table: dict[str, Any], handler: Recorder, **kwargs: Any) -> OutboxLoop:
    outbox = OutboxLoop(
        client=table["streams"], stream_arn=table["stream_arn"], handler=handler, **kwargs
    )
    outbox.discover()
    return outbox


def test_batches_are_lambda_stream_events_of_outbox_inserts_only(table: dict[str, Any]) -> None:
    # Given an order write, two outbox items and an update of one of them
    put(table, "ORDER")
    put(table, "EVENT#1")
    put(table, "EVENT#2")
    put(table, "EVENT#2")  # a MODIFY, like mark_published
    handler = Recorder()

    loop(table, handler).step()

    # Then the handler saw one batch: the two INSERTs of EVENT# items, as Lambda shapes them
    assert handler.sort_keys(0) == ["EVENT#1", "EVENT#2"]
    record = handler.batches[0][0]
    assert set(record) == {
        "eventID",
        "eventName",
        "eventVersion",
        "eventSource",
        "awsRegion",
        "dynamodb",
        "eventSourceARN",
    }
    assert record["eventSource"] == "aws:dynamodb"
    assert record["eventSourceARN"] == table["stream_arn"]
    assert isinstance(record["dynamodb"]["ApproximateCreationDateTime"], int)
    assert {"Keys", "NewImage", "SequenceNumber", "SizeBytes", "StreamViewType"} <= set(
        record["dynamodb"]
    )
    parsed = next(iter(DynamoDBStreamEvent({"Records": handler.batches[0]}).records))
    assert parsed.dynamodb is not None
    assert parsed.dynamodb.new_image["sk"] == "EVENT#1"


def test_a_failed_record_comes_back_with_the_ones_after_it_not_before(
    table: dict[str, Any],
) -> None:
    for sort_key in ("EVENT#1", "EVENT#2", "EVENT#3"):
        put(table, sort_key)
    # The handler fails EVENT#2 once
    handler = Recorder(
        fail=lambda call, r: call == 0 and r["dynamodb"]["Keys"]["sk"]["S"] == "EVENT#2"
    )
    outbox = loop(table, handler)

    _, backoff = outbox.step()
    outbox.step()

    assert backoff > 0
    assert handler.sort_keys(0) == ["EVENT#1", "EVENT#2", "EVENT#3"]
    assert handler.sort_keys(1) == ["EVENT#2", "EVENT#3"]
    # and then the stream moves on
    outbox.step()
    assert len(handler.batches) == 2


def test_after_the_retry_limit_the_batch_goes_to_the_on_failure_destination(
    table: dict[str, Any],
) -> None:
    put(table, "EVENT#1")
    handler = Recorder(fail=lambda call, r: True)
    abandoned: list[dict[str, Any]] = []
    outbox = loop(table, handler, on_failure=abandoned.append)

    for _ in range(MAX_RETRY_ATTEMPTS + 1):
        outbox.step()

    # One first attempt and MAX_RETRY_ATTEMPTS retries, as the event source mapping makes
    assert len(handler.batches) == MAX_RETRY_ATTEMPTS + 1
    assert abandoned[0]["requestContext"]["condition"] == "RetryAttemptsExhausted"
    assert abandoned[0]["DDBStreamBatchInfo"]["batchSize"] == 1
    # and a new record after it is delivered on its own
    put(table, "EVENT#2")
    outbox.step()
    assert handler.sort_keys(-1) == ["EVENT#2"]


def test_a_handler_that_raises_fails_the_whole_batch(table: dict[str, Any]) -> None:
    put(table, "EVENT#1")
    put(table, "EVENT#2")
    calls: list[int] = []

    def flaky(event: dict[str, Any], context: Any) -> dict[str, Any]:
        calls.append(len(event["Records"]))
        if len(calls) == 1:
            raise RuntimeError("bus down")
        return {"batchItemFailures": []}

    outbox = OutboxLoop(client=table["streams"], stream_arn=table["stream_arn"], handler=flaky)
    outbox.discover()
    outbox.step()
    outbox.step()

    assert calls == [2, 2]


@pytest.mark.parametrize(
    ("name", "sort_key", "expected"),
    [("INSERT", "EVENT#x", True), ("MODIFY", "EVENT#x", False), ("INSERT", "ORDER", False)],
)
def test_filter_is_the_event_source_mappings(name: str, sort_key: str, expected: bool) -> None:
    record = {"eventName": name, "dynamodb": {"Keys": {"sk": {"S": sort_key}}}}
    assert matches_filter(record) is expected


@pytest.fixture
def app_without_auth(table: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> Any:
    """The app on the in-process data plane, token checks off: this test is about the outbox,
    and an in-process moto serves no JWKS over HTTP (ORDERS_AUTH_DISABLED, as the auth
    contract allows for tests not about auth)."""
    from orders.app import create_app
    from orders.settings import get_settings

    monkeypatch.setenv("ORDERS_AUTH_DISABLED", "true")
    get_settings.cache_clear()
    yield create_app()
    get_settings.cache_clear()


def test_a_record_the_bus_refuses_is_parked_in_the_dlq_and_later_ones_publish(
    table: dict[str, Any],
    app_without_auth: Any,
    aws: dict[str, str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    from fastapi.testclient import TestClient

    from orders import outbox

    api = TestClient(app_without_auth)

    def create(customer: str) -> str:
        created = api.post(
            "/api/orders", json={"customer": customer, "product": "p", "quantity": 1}
        )
        assert created.status_code == 201, created.text
        return str(created.json()["id"])

    sqs = boto3.client("sqs", region_name="us-east-1")
    dlq = sqs.create_queue(QueueName="orders-outbox-dlq")["QueueUrl"]
    outbox.reset()
    events_client = outbox._outbox_publisher()._publisher._client  # type: ignore[attr-defined]
    poison = create("poison")

    # Given the bus refuses every entry of one order (moto answers FailedEntryCount for a
    # Detail that is not JSON), whatever else shares its PutEvents call
    def refuse_poison(params: dict[str, Any], **_: object) -> None:
        for entry in params["Entries"]:
            if poison in entry["Detail"]:
                entry["Detail"] = "not json"

    events_client.meta.events.register_first(
        "provide-client-params.events.PutEvents", refuse_poison
    )
    later = [create("later-1"), create("later-2")]
    outbox_loop = OutboxLoop(
        client=table["streams"],
        stream_arn=table["stream_arn"],
        handler=outbox.handler,
        on_failure=sqs_sender(sqs, dlq),
    )
    outbox_loop.discover()

    # When the loop has tried the poisoned record as often as the mapping would
    backoffs = [outbox_loop.step()[1] for _ in range(MAX_RETRY_ATTEMPTS + 1)]
    # and an order comes after it was parked
    later.append(create("later-3"))
    outbox_loop.step()
    outbox.reset()

    # Then it was retried with a growing backoff, then parked in the DLQ (Lambda's record)
    assert backoffs[:-1] == sorted(backoffs[:-1])
    assert all(b > 0 for b in backoffs[:-1])
    parked = [
        json.loads(m["Body"])
        for m in sqs.receive_message(QueueUrl=dlq, MaxNumberOfMessages=10).get("Messages", [])
    ]
    assert len(parked) == 1
    assert parked[0]["requestContext"]["condition"] == "RetryAttemptsExhausted"
    assert parked[0]["requestContext"]["approximateInvokeCount"] == MAX_RETRY_ATTEMPTS + 1
    assert f"ORDER#{poison}" in caplog.text
    assert "giving up" in caplog.text
    # and every later order reached the bus; the poisoned one never did
    on_bus = {m["detail"]["order"]["id"] for m in bus_messages(aws["queue_url"])}
    assert on_bus == set(later)
    assert api.get(f"/api/orders/{poison}/events").json()["items"][0]["published_at"] is None
    assert all(api.get(f"/api/orders/{o}/events").json()["items"][0]["published_at"] for o in later)


def test_a_restarted_loop_goes_on_from_its_checkpoint(
    table: dict[str, Any], tmp_path: Path
) -> None:
    checkpoint = tmp_path / "outbox.checkpoint.json"
    put(table, "ORDER")
    put(table, "EVENT#1")
    first = Recorder()
    loop(table, first, checkpoint_path=checkpoint).step()

    # When the loop is started again (a new process) after more writes
    put(table, "EVENT#2")
    second = Recorder()
    loop(table, second, checkpoint_path=checkpoint).step()

    # Then it delivers only what it had not handled
    assert first.sort_keys(0) == ["EVENT#1"]
    assert second.sort_keys(0) == ["EVENT#2"]
    assert len(second.batches) == 1


def test_a_checkpoint_of_another_stream_is_ignored(table: dict[str, Any], tmp_path: Path) -> None:
    checkpoint = tmp_path / "outbox.checkpoint.json"
    checkpoint.write_text(json.dumps({"stream_arn": "arn:other", "shards": {"x": "99"}}))
    put(table, "EVENT#1")
    handler = Recorder()

    loop(table, handler, checkpoint_path=checkpoint).step()

    assert handler.sort_keys(0) == ["EVENT#1"]


def test_an_iterator_the_stream_refuses_is_replaced_from_the_checkpoint(
    table: dict[str, Any],
) -> None:
    put(table, "EVENT#1")
    handler = Recorder()
    outbox = loop(table, handler)
    outbox.step()
    put(table, "EVENT#2")
    refusals: list[int] = []

    # Given the stream refuses the loop's next iterator once
    def refuse_once(**_: object) -> None:
        if not refusals:
            refusals.append(1)
            raise ClientError(
                {"Error": {"Code": "ExpiredIteratorException", "Message": "expired"}},
                "GetRecords",
            )

    table["streams"].meta.events.register_first(
        "before-call.dynamodbstreams.GetRecords", refuse_once
    )
    _, backoff = outbox.step()
    outbox.step()

    # Then the loop went on after what it had handled: nothing lost, nothing twice
    assert refusals == [1]
    assert backoff > 0
    assert [handler.sort_keys(i) for i in range(len(handler.batches))] == [["EVENT#1"], ["EVENT#2"]]
