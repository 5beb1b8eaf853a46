"""The local outbox loop gives the handler what Lambda's event source mapping would.

In-process moto (no server): these check the loop's contract, fast.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import boto3
import pytest
from aws_lambda_powertools.utilities.data_classes import DynamoDBStreamEvent

from devstack.outbox_loop import MAX_RETRY_ATTEMPTS, OutboxLoop, matches_filter
from tests.support import TABLE

if TYPE_CHECKING:
    from collections.abc import Callable


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
