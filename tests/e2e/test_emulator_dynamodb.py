"""The emulator's DynamoDB fixes (devstack.emulator_dynamodb), in-process and fast.

The race itself is shown against real processes in test_concurrency.py; these pin
down the pieces: what a cancelled or failed transaction leaves behind, the lock, and
the refusal of a moto this was not checked against.
"""

from __future__ import annotations

import socket
import threading
import time
from typing import TYPE_CHECKING, Any

import boto3
import pytest
from botocore.exceptions import ClientError

from devstack import emulator_dynamodb
from tests.support import TABLE

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable


@pytest.fixture
def ddb(aws: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> Any:
    """moto in-process with the table, and our TransactWriteItems in place of moto's."""
    from moto.dynamodb.models import DynamoDBBackend

    monkeypatch.setattr(
        DynamoDBBackend, "transact_write_items", emulator_dynamodb.transact_write_items
    )
    monkeypatch.setenv("AWS_ACCOUNT_ID_ENDPOINT_MODE", "disabled")
    return boto3.client("dynamodb", region_name="us-east-1")


def backend_table() -> Any:
    from moto.core.models import DEFAULT_ACCOUNT_ID
    from moto.dynamodb.models import dynamodb_backends

    return dynamodb_backends[DEFAULT_ACCOUNT_ID]["us-east-1"].tables[TABLE]


def key(sk: str) -> dict[str, Any]:
    return {"pk": {"S": "ORDER#1"}, "sk": {"S": sk}}


def order(version: int) -> dict[str, Any]:
    return {**key("ORDER"), "version": {"N": str(version)}}


def change(expected: int, event: str, *extra: dict[str, Any]) -> list[dict[str, Any]]:
    """The service's status change: a conditional update and its outbox item."""
    return [
        {
            "Update": {
                "TableName": TABLE,
                "Key": key("ORDER"),
                "UpdateExpression": "SET version = :next",
                "ConditionExpression": "version = :expected",
                "ExpressionAttributeValues": {
                    ":expected": {"N": str(expected)},
                    ":next": {"N": str(expected + 1)},
                },
            }
        },
        {"Put": {"TableName": TABLE, "Item": key(event)}},
        *extra,
    ]


def stream_length() -> int:
    return len(backend_table().stream_shard.items)


def test_a_cancelled_transaction_writes_and_streams_nothing(ddb: Any) -> None:
    ddb.put_item(TableName=TABLE, Item=order(2))
    table, shard, records = backend_table(), backend_table().stream_shard, stream_length()

    with pytest.raises(ClientError) as caught:
        ddb.transact_write_items(TransactItems=change(1, "EVENT#lost"))

    assert caught.value.response["Error"]["Code"] == "TransactionCanceledException"
    reasons = [r["Code"] for r in caught.value.response["CancellationReasons"]]
    assert reasons == ["ConditionalCheckFailed", "None"]
    assert "Item" not in ddb.get_item(TableName=TABLE, Key=key("EVENT#lost"))
    assert stream_length() == records
    # The table and its stream shard are the same objects: a reader's iterator still reads them
    assert backend_table() is table
    assert backend_table().stream_shard is shard


def test_a_committed_transaction_writes_all_and_streams_each_write(ddb: Any) -> None:
    ddb.put_item(TableName=TABLE, Item=order(1))
    records = stream_length()

    ddb.transact_write_items(TransactItems=change(1, "EVENT#1"))

    item = ddb.get_item(TableName=TABLE, Key=key("ORDER"))["Item"]
    assert item["version"] == {"N": "2"}
    assert "Item" in ddb.get_item(TableName=TABLE, Key=key("EVENT#1"))
    assert stream_length() == records + 2


def test_a_write_that_fails_midway_puts_back_only_what_the_transaction_touched(
    ddb: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    rollbacks: list[int] = []
    rollback = emulator_dynamodb._Undo.rollback

    def counted(undo: emulator_dynamodb._Undo) -> None:
        rollbacks.append(len(undo.items))
        rollback(undo)

    monkeypatch.setattr(emulator_dynamodb._Undo, "rollback", counted)
    ddb.put_item(TableName=TABLE, Item=order(1))
    ddb.put_item(TableName=TABLE, Item={**key("NOTE"), "text": {"S": "words"}})
    records = stream_length()
    # Passes every condition, then fails when applied: ADD to a string attribute.
    failing = {
        "Update": {
            "TableName": TABLE,
            "Key": key("NOTE"),
            "UpdateExpression": "ADD #text :one",
            "ExpressionAttributeNames": {"#text": "text"},
            "ExpressionAttributeValues": {":one": {"N": "1"}},
        }
    }

    with pytest.raises(ClientError):
        ddb.transact_write_items(TransactItems=change(1, "EVENT#1", failing))

    # The first two writes happened and were put back
    assert rollbacks == [3]
    assert ddb.get_item(TableName=TABLE, Key=key("ORDER"))["Item"]["version"] == {"N": "1"}
    assert "Item" not in ddb.get_item(TableName=TABLE, Key=key("EVENT#1"))
    assert ddb.get_item(TableName=TABLE, Key=key("NOTE"))["Item"]["text"] == {"S": "words"}
    assert stream_length() == records


def test_one_operation_per_item_is_still_a_validation_error(ddb: Any) -> None:
    ddb.put_item(TableName=TABLE, Item=order(1))
    twice = [{"Put": {"TableName": TABLE, "Item": order(5)}}, *change(1, "EVENT#1")[:1]]

    with pytest.raises(ClientError) as caught:
        ddb.transact_write_items(TransactItems=twice)

    assert caught.value.response["Error"]["Code"] == "ValidationException"
    assert ddb.get_item(TableName=TABLE, Key=key("ORDER"))["Item"]["version"] == {"N": "1"}


def test_an_index_query_keeps_its_order_and_pages(
    ddb: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from moto.dynamodb.models.table import Table

    monkeypatch.setattr(Table, "sorted_items", emulator_dynamodb.sorted_items)
    monkeypatch.setattr(Table, "all_items", emulator_dynamodb.all_items)
    # Sort keys whose text order differs from insertion order, and ties broken by pk
    created = ["2026-01-02", "2026-01-01", "2026-01-03", "2026-01-02", "2026-01-10"]
    for n, when in enumerate(created):
        ddb.put_item(
            TableName=TABLE,
            Item={
                "pk": {"S": f"ORDER#{n}"},
                "sk": {"S": "ORDER"},
                "entity": {"S": "ORDER"},
                "created_key": {"S": when},
            },
        )
    query = {
        "TableName": TABLE,
        "IndexName": "by_created",
        "KeyConditionExpression": "entity = :e",
        "ExpressionAttributeValues": {":e": {"S": "ORDER"}},
        "ScanIndexForward": False,
        "Limit": 3,
    }

    first = ddb.query(**query)
    second = ddb.query(**query, ExclusiveStartKey=first["LastEvaluatedKey"])

    pks = [i["pk"]["S"] for i in first["Items"] + second["Items"]]
    assert pks == ["ORDER#4", "ORDER#2", "ORDER#3", "ORDER#0", "ORDER#1"]


def test_the_faster_sorts_give_moto_s_own_order(ddb: Any) -> None:
    from moto.dynamodb.models.table import Table

    assert Table.all_items is not emulator_dynamodb.all_items  # moto's own, to compare with

    # Keys whose text order is not their insertion order, ties on the index key included
    for n, (pk, created) in enumerate(
        [("ORDER#b", "2"), ("ORDER#a", "10"), ("ORDER#c", "2"), ("ORDER#10", "1"), ("IDEM#x", "3")]
    ):
        for sk in ("ORDER", f"EVENT#{n}"):
            ddb.put_item(
                TableName=TABLE,
                Item={
                    "pk": {"S": pk},
                    "sk": {"S": sk},
                    "entity": {"S": "ORDER"},
                    "created_key": {"S": created},
                },
            )
    table = backend_table()
    hash_attrs: list[str] = ["entity", "pk"]
    range_attrs: list[str | None] = ["created_key", "sk"]

    ours = emulator_dynamodb.all_items(table)
    theirs = Table.all_items(table)
    ours_sorted = emulator_dynamodb.sorted_items(table, hash_attrs, range_attrs, list(ours))
    theirs_sorted = Table.sorted_items(table, hash_attrs, range_attrs, list(theirs))

    assert [i.to_json() for i in ours] == [i.to_json() for i in theirs]
    assert [i.to_json() for i in ours_sorted] == [i.to_json() for i in theirs_sorted]


def test_the_lock_is_handed_over_in_the_order_it_was_asked_for() -> None:
    lock = emulator_dynamodb.FifoLock()
    order: list[int] = []
    lock.__enter__()
    threads = []
    for n in range(5):

        def take(n: int = n) -> None:
            with lock:
                order.append(n)

        thread = threading.Thread(target=take)
        thread.start()
        threads.append(thread)
        deadline = time.monotonic() + 5
        while len(lock._waiters) < n + 1 and time.monotonic() < deadline:
            time.sleep(0.001)
    lock.__exit__(None, None, None)
    for thread in threads:
        thread.join(5)

    assert order == [0, 1, 2, 3, 4]


def overlap_recorder() -> tuple[Callable[..., Iterable[bytes]], list[int]]:
    """A WSGI app that notes how many requests it is serving at once."""
    running, peaks = [0], []
    guard = threading.Lock()

    def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        with guard:
            running[0] += 1
            peaks.append(running[0])
        time.sleep(0.05)
        with guard:
            running[0] -= 1
        start_response("200 OK", [])
        return [b"ok"]

    return app, peaks


@pytest.mark.parametrize(
    ("target", "most_at_once"),
    [
        ("DynamoDB_20120810.TransactWriteItems", 1),
        ("DynamoDBStreams_20120810.GetRecords", 1),
        ("AmazonSQS.ReceiveMessage", 4),
    ],
)
def test_dynamodb_requests_run_one_at_a_time_and_others_do_not_wait(
    target: str, most_at_once: int
) -> None:
    app, peaks = overlap_recorder()
    wrapped = emulator_dynamodb.serialised(app)
    barrier = threading.Barrier(4)

    def call() -> None:
        barrier.wait()
        assert list(wrapped({"HTTP_X_AMZ_TARGET": target}, lambda *a: None)) == [b"ok"]

    threads = [threading.Thread(target=call) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(5)

    assert max(peaks) == most_at_once


@pytest.mark.parametrize("hung_up", [False, True])
def test_a_request_whose_caller_hung_up_while_waiting_is_not_served(hung_up: bool) -> None:
    served: list[bytes] = []

    def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        served.append(environ["wsgi.input"].read())
        start_response("200 OK", [])
        return [b"{}"]

    server_side, client_side = socket.socketpair()
    body = b'{"TableName": "t"}'
    client_side.sendall(body)
    if hung_up:
        client_side.close()  # an SDK that timed out closes the connection and retries
    statuses: list[str] = []
    environ = {
        "HTTP_X_AMZ_TARGET": "DynamoDB_20120810.GetItem",
        "CONTENT_LENGTH": str(len(body)),
        "wsgi.input": server_side.makefile("rb"),
        "werkzeug.socket": server_side,
    }
    try:
        result = list(emulator_dynamodb.serialised(app)(environ, lambda s, h: statuses.append(s)))
    finally:
        server_side.close()
        client_side.close()

    if hung_up:
        assert served == []
        assert statuses == ["503 Service Unavailable"]
    else:
        assert served == [body]
        assert result == [b"{}"]


def test_a_moto_it_was_not_checked_against_is_refused_with_what_to_do(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(emulator_dynamodb, "moto_release", lambda: (6, 0))

    with pytest.raises(emulator_dynamodb.UnsupportedMoto, match="SUPPORTED_MOTO"):
        emulator_dynamodb.install()


def test_the_installed_moto_is_supported() -> None:
    emulator_dynamodb.check_moto()
