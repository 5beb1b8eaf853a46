"""The throttle's counters on the data stack's table, in moto (orders.adapters.ratelimit)."""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Any

import boto3
import pytest
from fastapi.testclient import TestClient

from orders.adapters.ratelimit import DynamoRateLimiter
from orders.ports import DependencyUnavailable
from orders.throttle import Throttle, Window
from tests import tokens
from tests.support import REGION, TABLE

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient


@pytest.fixture
def dynamodb(aws: dict[str, str]) -> DynamoDBClient:
    return boto3.client("dynamodb", region_name=REGION)


@pytest.fixture
def limiter(dynamodb: DynamoDBClient) -> DynamoRateLimiter:
    return DynamoRateLimiter(table_name=TABLE, client=dynamodb)


def _items(dynamodb: DynamoDBClient, caller: str) -> list[dict[str, Any]]:
    found = dynamodb.query(
        TableName=TABLE,
        KeyConditionExpression="pk = :pk",
        ExpressionAttributeValues={":pk": {"S": f"RATE#{caller}"}},
    )
    return list(found["Items"])


def test_a_window_counts_up_to_the_limit_and_the_next_window_starts_again(
    limiter: DynamoRateLimiter, dynamodb: DynamoDBClient
) -> None:
    first, second = Window(600, 660), Window(660, 720)

    answers = [limiter.hit("user:a", first, 2) for _ in range(3)]
    rolled = limiter.hit("user:a", second, 2)

    assert answers == [True, True, False]
    assert rolled is True
    items = {item["sk"]["S"]: item for item in _items(dynamodb, "user:a")}
    assert set(items) == {"WINDOW#600", "WINDOW#660"}
    # The refused request counted nothing; the TTL attribute is the table's (data.yaml).
    assert items["WINDOW#600"]["hits"] == {"N": "2"}
    assert items["WINDOW#660"]["hits"] == {"N": "1"}
    assert int(items["WINDOW#600"]["expiration"]["N"]) == 720
    # Nothing a list index reads: counters never show up as orders.
    assert not {"entity", "status", "customer", "created_key"} & set(items["WINDOW#600"])


def test_callers_have_their_own_counters(limiter: DynamoRateLimiter) -> None:
    window = Window(0, 60)

    assert limiter.hit("user:a", window, 1)
    assert limiter.hit("client:b", window, 1)
    assert not limiter.hit("user:a", window, 1)


@pytest.fixture
def atomic_requests(monkeypatch: pytest.MonkeyPatch) -> None:
    """Each UpdateItem atomic, as DynamoDB makes every single-item write.

    moto's in-process backend takes no lock (threads interleave inside one update_item);
    `make dev`'s emulator serialises DynamoDB requests for the same reason
    (devstack.emulator_dynamodb). So what is tested is the adapter's use of the store:
    a read-then-write counter would still overshoot here, the conditional ADD must not.
    """
    from moto.dynamodb.models import DynamoDBBackend

    original = DynamoDBBackend.update_item
    lock = threading.Lock()

    def update_item(self: Any, *args: Any, **kwargs: Any) -> Any:
        with lock:
            return original(self, *args, **kwargs)

    monkeypatch.setattr(DynamoDBBackend, "update_item", update_item)


@pytest.mark.usefixtures("atomic_requests")
def test_concurrent_requests_over_the_limit_get_exactly_the_limit(
    limiter: DynamoRateLimiter, dynamodb: DynamoDBClient
) -> None:
    limit, threads, each = 7, 12, 3
    window = Window(1200, 1260)
    results: list[bool] = []
    lock = threading.Lock()
    start = threading.Barrier(threads)

    def worker() -> None:
        start.wait()
        for _ in range(each):
            answer = limiter.hit("client:busy", window, limit)
            with lock:
                results.append(answer)

    workers = [threading.Thread(target=worker) for _ in range(threads)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()

    assert len(results) == threads * each
    assert results.count(True) == limit
    (item,) = _items(dynamodb, "client:busy")
    assert item["hits"] == {"N": str(limit)}


def test_an_unreachable_table_is_a_dependency_failure_and_the_throttle_fails_open(
    dynamodb: DynamoDBClient,
) -> None:
    missing = DynamoRateLimiter(table_name="no-such-table", client=dynamodb)

    with pytest.raises(DependencyUnavailable) as raised:
        missing.hit("user:a", Window(0, 60), 1)
    assert raised.value.reason == "ResourceNotFoundException"

    policy = Throttle(missing, limit=1)
    assert all(policy.check("user:a").allowed for _ in range(3))


def test_the_app_throttles_through_the_table(
    aws: dict[str, str], monkeypatch: pytest.MonkeyPatch, dynamodb: DynamoDBClient
) -> None:
    from orders.app import create_app
    from orders.settings import get_settings

    monkeypatch.setenv("ORDERS_RATE_LIMIT_PER_MINUTE", "2")
    get_settings.cache_clear()
    app = create_app()
    # A fixed clock: a minute boundary between the requests would reset the count.
    app.state.container.throttle._clock = lambda: 1_000_020.0
    client = TestClient(app, raise_server_exceptions=False, headers=tokens.bearer("operator"))

    statuses = [client.get("/api/orders").status_code for _ in range(3)]

    assert statuses == [200, 200, 429]
    (item,) = _items(dynamodb, "user:" + tokens.claims("operator")["sub"])
    assert item["hits"] == {"N": "2"}
