"""Create is idempotent in the data, not only through the Powertools in-progress record."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest
from botocore.exceptions import ReadTimeoutError

from orders.domain.model import order_id_for, request_fingerprint
from orders.service import NewOrder
from tests import tokens
from tests.logs import captured_logs
from tests.support import TABLE

if TYPE_CHECKING:
    from fastapi import FastAPI
    from fastapi.testclient import TestClient

    from orders.service import OrderService

BODY: dict[str, Any] = {"customer": "acme", "product": "widget", "quantity": 3}


def orders_of(app: FastAPI, customer: str) -> list[dict[str, Any]]:
    ddb = app.state.container.clients.dynamodb
    return list(
        ddb.query(
            TableName=TABLE,
            IndexName="by_customer",
            KeyConditionExpression="customer = :c",
            ExpressionAttributeValues={":c": {"S": customer}},
        )["Items"]
    )


def forget_idempotency_records(app: FastAPI) -> int:
    """Delete Powertools' records, as their expiry would: only the data is left to go by."""
    ddb = app.state.container.clients.dynamodb
    items = ddb.query(
        TableName=TABLE,
        KeyConditionExpression="pk = :pk",
        ExpressionAttributeValues={":pk": {"S": "IDEMPOTENCY"}},
    )["Items"]
    for item in items:
        ddb.delete_item(TableName=TABLE, Key={"pk": item["pk"], "sk": item["sk"]})
    return len(items)


# The client fixture's token (an operator): Idempotency-Keys are scoped by its caller_id.
CALLER = f"user:{tokens.claims('operator')['sub']}"
OPERATOR: str = tokens.USERS["operator"]["username"]


def test_one_key_from_two_callers_is_two_orders(client: TestClient) -> None:
    headers = {"Idempotency-Key": "shared-key"}
    mine = client.post("/api/orders", json=BODY, headers=headers)
    theirs = client.post(
        "/api/orders",
        json={"product": BODY["product"], "quantity": BODY["quantity"]},
        headers={**headers, **tokens.bearer("acme")},
    )
    assert mine.status_code == theirs.status_code == 201
    assert mine.json()["id"] != theirs.json()["id"]
    assert "idempotent-replayed" not in theirs.headers


def test_the_key_fixes_the_order_id_and_the_write_carries_a_token(
    client: TestClient, app: FastAPI
) -> None:
    sent: list[dict[str, Any]] = []
    ddb = app.state.container.clients.dynamodb
    ddb.meta.events.register(
        "provide-client-params.dynamodb.TransactWriteItems",
        lambda params, **_: sent.append(params),
    )
    response = client.post("/api/orders", json=BODY, headers={"Idempotency-Key": "k-1"})
    assert response.status_code == 201
    order_id = response.json()["id"]
    assert order_id == order_id_for(CALLER, "k-1")
    assert order_id != order_id_for("someone-else", "k-1")
    assert sent[0]["ClientRequestToken"] == order_id
    condition = sent[0]["TransactItems"][0]["Put"]["ConditionExpression"]
    assert condition == "attribute_not_exists(pk)"


def test_after_the_replay_record_is_gone_the_data_still_answers(
    client: TestClient, app: FastAPI
) -> None:
    headers = {"Idempotency-Key": "k-2"}
    first = client.post("/api/orders", json=BODY, headers=headers)
    assert forget_idempotency_records(app) == 1

    replay = client.post("/api/orders", json=BODY, headers=headers)
    assert forget_idempotency_records(app) == 1
    reused = client.post("/api/orders", json={**BODY, "quantity": 4}, headers=headers)

    assert replay.status_code == 201
    assert replay.json() == first.json()
    assert replay.headers["idempotent-replayed"] == "true"
    assert replay.headers["etag"] == first.headers["etag"]
    assert reused.status_code == 422
    assert reused.json()["type"] == "urn:orders:problem:idempotency-key-reused"
    assert len(orders_of(app, "acme")) == 1


def test_a_503_whose_write_committed_is_retried_into_the_same_order(
    client: TestClient, app: FastAPI
) -> None:
    """The transaction commits but its reply is lost; the client retries its key."""
    ddb = app.state.container.clients.dynamodb
    lost = {"count": 0}

    def lose_the_reply(**_: object) -> None:
        if lost["count"] == 0:
            lost["count"] += 1
            raise ReadTimeoutError(endpoint_url="http://dynamodb")

    ddb.meta.events.register("after-call.dynamodb.TransactWriteItems", lose_the_reply)
    headers = {"Idempotency-Key": "k-3"}
    failed = client.post("/api/orders", json=BODY, headers=headers)
    assert failed.status_code == 503
    assert len(orders_of(app, "acme")) == 1  # it did commit

    retried = client.post("/api/orders", json=BODY, headers=headers)
    assert retried.status_code == 201
    assert retried.headers["idempotent-replayed"] == "true"
    assert retried.json()["id"] == order_id_for(CALLER, "k-3")
    assert len(orders_of(app, "acme")) == 1
    events = client.get(f"/api/orders/{retried.json()['id']}/events").json()["items"]
    assert [e["detail_type"] for e in events] == ["OrderCreated"]


def test_a_duplicate_while_the_first_runs_is_409_with_retry_after(
    client: TestClient, app: FastAPI
) -> None:
    service: OrderService = app.state.container.service
    headers = {"Idempotency-Key": "k-4"}
    during: dict[str, Any] = {}
    new = NewOrder(**BODY)
    order_id = order_id_for(CALLER, "k-4")

    def first_attempt() -> dict[str, Any]:
        # While the first attempt holds the key, a second one arrives.
        response = client.post("/api/orders", json=BODY, headers=headers)
        during.update(status=response.status_code, headers=response.headers, body=response.json())
        # Then the first attempt creates as the service's own operation does: the request's
        # fingerprint, and the operator (the client fixture's token) as the event's actor.
        created, _ = service._create_or_find(
            new, order_id, request_fingerprint(new.payload()), OPERATOR
        )
        public: dict[str, Any] = created.public()
        return public

    service._idempotency.run(key=order_id, payload=new.payload(), operation=first_attempt)
    assert during["status"] == 409
    assert during["body"]["type"] == "urn:orders:problem:idempotency-in-progress"
    assert int(during["headers"]["retry-after"]) >= 1
    # Once the key's record is gone, a retry is told from a reused key by the fingerprint alone.
    forget_idempotency_records(app)
    retried = client.post("/api/orders", json=BODY, headers=headers)
    assert retried.status_code == 201
    assert retried.headers["idempotent-replayed"] == "true"
    assert retried.json()["id"] == order_id
    events = client.get(f"/api/orders/{order_id}/events").json()["items"]
    assert [(e["detail_type"], e["actor"]) for e in events] == [("OrderCreated", OPERATOR)]


def test_a_create_without_a_key_is_not_deduplicated(client: TestClient, app: FastAPI) -> None:
    a = client.post("/api/orders", json=BODY)
    b = client.post("/api/orders", json=BODY)
    assert a.status_code == b.status_code == 201
    assert a.json()["id"] != b.json()["id"]
    assert len(orders_of(app, "acme")) == 2


def test_an_idempotency_store_failure_is_503_and_logged_with_its_cause(
    app: FastAPI, client: TestClient
) -> None:
    """Powertools wraps the SDK's error, so the adapter itself must log it."""
    import json

    from botocore.exceptions import EndpointConnectionError

    def down(**_: object) -> None:
        raise EndpointConnectionError(endpoint_url="http://dynamodb")

    app.state.container.clients.dynamodb.meta.events.register_first(
        "before-send.dynamodb.PutItem", down
    )
    with captured_logs() as stream:
        response = client.post("/api/orders", json=BODY, headers={"Idempotency-Key": "store-down"})
    assert response.status_code == 503
    assert response.json()["type"] == "urn:orders:problem:dependency-unavailable"
    records = [json.loads(line) for line in stream.getvalue().splitlines() if line.strip()]
    failures = [r for r in records if r.get("message") == "dependency call failed"]
    assert len(failures) == 1, records
    assert failures[0]["dependency"] == "dynamodb"
    assert failures[0]["operation"] == "idempotency"
    assert failures[0]["error"] == "EndpointConnectionError"


def test_a_key_recorded_on_lambda_replays_under_uvicorn(
    app: FastAPI, client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The record's key must not depend on where the first request ran (a switch drill)."""
    # Given a create recorded by the Lambda function (Powertools reads its name from here)
    monkeypatch.setenv("AWS_LAMBDA_FUNCTION_NAME", "orders-ApiFunction-1A2B3C")
    first = client.post("/api/orders", json=BODY, headers={"Idempotency-Key": "moved"})
    assert first.status_code == 201
    # When the retry reaches the container, where no function name is set
    monkeypatch.delenv("AWS_LAMBDA_FUNCTION_NAME")
    again = client.post("/api/orders", json=BODY, headers={"Idempotency-Key": "moved"})
    # Then Powertools' own record replays it
    assert again.status_code == 201
    assert again.json() == first.json()
    assert again.headers["Idempotent-Replayed"] == "true"
    ddb = app.state.container.clients.dynamodb
    keys = [
        item["sk"]["S"]
        for item in ddb.query(
            TableName=TABLE,
            KeyConditionExpression="pk = :pk",
            ExpressionAttributeValues={":pk": {"S": "IDEMPOTENCY"}},
        )["Items"]
    ]
    assert len(keys) == 1
    assert keys[0].startswith("orders.create#")
