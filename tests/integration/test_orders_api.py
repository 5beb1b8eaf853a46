"""The orders API against moto: the acceptance behaviours of the service."""

from __future__ import annotations

import base64
import itertools
import json
from datetime import UTC, datetime
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from orders.domain.model import TRANSITIONS, OrderStatus
from tests.support import TABLE, NewOrder


def stored_orders(app: FastAPI) -> list[dict[str, Any]]:
    ddb = app.state.container.clients.dynamodb
    items = ddb.query(
        TableName=TABLE,
        IndexName="by_created",
        KeyConditionExpression="entity = :e",
        ExpressionAttributeValues={":e": {"S": "ORDER"}},
    )["Items"]
    return list(items)


def test_create_returns_order_location_and_etag(client: TestClient) -> None:
    response = client.post("/api/orders", json={"customer": "acme", "product": "w", "quantity": 3})
    assert response.status_code == 201
    order = response.json()
    assert order["status"] == "pending"
    assert order["version"] == 1
    assert order["allowed_transitions"] == ["confirmed", "cancelled"]
    assert response.headers["location"] == f"/api/orders/{order['id']}"
    assert response.headers["etag"] == '"1"'
    assert client.get(response.headers["location"]).json() == order


def test_idempotent_replay_creates_one_order(client: TestClient, app: FastAPI) -> None:
    body = {"customer": "acme", "product": "w", "quantity": 3}
    headers = {"Idempotency-Key": "order-123"}
    first = client.post("/api/orders", json=body, headers=headers)
    second = client.post("/api/orders", json=body, headers=headers)
    assert first.status_code == second.status_code == 201
    assert second.json() == first.json()
    assert second.headers["idempotent-replayed"] == "true"
    assert "idempotent-replayed" not in first.headers
    assert len(stored_orders(app)) == 1


def test_same_key_other_body_is_rejected(client: TestClient, app: FastAPI) -> None:
    headers = {"Idempotency-Key": "order-124"}
    client.post(
        "/api/orders", json={"customer": "a", "product": "w", "quantity": 1}, headers=headers
    )
    other = client.post(
        "/api/orders", json={"customer": "a", "product": "w", "quantity": 2}, headers=headers
    )
    assert other.status_code == 422
    assert other.json()["type"] == "urn:orders:problem:idempotency-key-reused"
    assert len(stored_orders(app)) == 1


def test_stale_version_is_409_and_order_unchanged(client: TestClient, new_order: NewOrder) -> None:
    order = new_order()
    url = f"/api/orders/{order['id']}"
    moved = client.put(f"{url}/status", json={"status": "confirmed", "version": 1})
    assert moved.status_code == 200
    assert moved.headers["etag"] == '"2"'
    before = client.get(url).json()
    stale = client.put(f"{url}/status", json={"status": "cancelled", "version": 1})
    assert stale.status_code == 409
    assert stale.json()["type"] == "urn:orders:problem:version-conflict"
    assert stale.json()["current_version"] == 2
    assert client.get(url).json() == before


def test_lost_race_is_409_not_a_lost_update(
    client: TestClient, new_order: NewOrder, app: FastAPI
) -> None:
    """Two writers read version 1; the second conditional write must fail."""
    order = new_order()
    service = app.state.container.service
    repo = app.state.container.repository
    current = repo.get(order["id"])
    service.change_status(order["id"], OrderStatus.CONFIRMED, expected_version=1)
    from orders.domain.errors import VersionConflict
    from orders.domain.model import OrderEvent

    changed = current.transition(OrderStatus.CANCELLED)
    with pytest.raises(VersionConflict):
        repo.save_transition(
            changed, expected_version=1, event=OrderEvent.status_changed(changed, current.status)
        )
    assert repo.get(order["id"]).status is OrderStatus.CONFIRMED
    assert len(repo.events(order["id"])) == 2  # created + confirmed, not the loser's event


def walk_to(client: TestClient, order_id: str, status: OrderStatus) -> int:
    path = {
        OrderStatus.PENDING: [],
        OrderStatus.CONFIRMED: ["confirmed"],
        OrderStatus.SHIPPED: ["confirmed", "shipped"],
        OrderStatus.DELIVERED: ["confirmed", "shipped", "delivered"],
        OrderStatus.CANCELLED: ["cancelled"],
    }[status]
    version = 1
    for step in path:
        response = client.put(
            f"/api/orders/{order_id}/status", json={"status": step, "version": version}
        )
        assert response.status_code == 200, response.text
        version += 1
    return version


ILLEGAL = [
    (a, b) for a, b in itertools.product(OrderStatus, OrderStatus) if b not in TRANSITIONS[a]
]


@pytest.mark.parametrize(("current", "target"), ILLEGAL, ids=lambda s: s.value)
def test_every_illegal_transition_is_409(
    client: TestClient,
    new_order: NewOrder,
    current: OrderStatus,
    target: OrderStatus,
) -> None:
    order = new_order()
    version = walk_to(client, order["id"], current)
    response = client.put(
        f"/api/orders/{order['id']}/status", json={"status": target.value, "version": version}
    )
    assert response.status_code == 409
    assert response.json()["type"] == "urn:orders:problem:illegal-transition"
    assert client.get(f"/api/orders/{order['id']}").json()["version"] == version


def test_status_change_without_a_precondition_applies_to_the_current_version(
    client: TestClient,
    new_order: NewOrder,
) -> None:
    order = new_order()
    response = client.put(f"/api/orders/{order['id']}/status", json={"status": "confirmed"})
    assert response.status_code == 200
    assert response.json()["version"] == 2
    assert response.headers["etag"] == '"2"'
    bad = client.put(
        f"/api/orders/{order['id']}/status", json={"status": "shipped"}, headers={"If-Match": "x"}
    )
    assert bad.status_code == 422
    assert client.get(f"/api/orders/{order['id']}").json()["version"] == 2


def test_cancel(client: TestClient, new_order: NewOrder) -> None:
    order = new_order()
    response = client.post(f"/api/orders/{order['id']}/cancel", headers={"If-Match": '"1"'})
    assert response.status_code == 200
    assert response.json()["status"] == "cancelled"
    again = client.post(f"/api/orders/{order['id']}/cancel", json={"version": 2})
    assert again.status_code == 409


def test_status_change_never_creates_an_item(client: TestClient, app: FastAPI) -> None:
    missing = "0" * 32
    response = client.put(
        f"/api/orders/{missing}/status", json={"status": "confirmed", "version": 1}
    )
    assert response.status_code == 404
    assert stored_orders(app) == []


def test_list_pages_newest_first_by_query_never_scan(
    client: TestClient, app: FastAPI, new_order: NewOrder
) -> None:
    calls: list[str] = []
    ddb = app.state.container.clients.dynamodb
    ddb.meta.events.register("before-call.dynamodb.*", lambda model, **_: calls.append(model.name))
    created = [new_order(customer="acme" if i % 2 else "globex") for i in range(7)]
    seen: list[str] = []
    cursor = None
    while True:
        params = {"limit": 3, **({"cursor": cursor} if cursor else {})}
        page = client.get("/api/orders", params=params).json()
        seen += [o["id"] for o in page["items"]]
        cursor = page["next_cursor"]
        if not cursor:
            break
    assert seen == [o["id"] for o in reversed(created)]
    acme = client.get("/api/orders", params={"customer": "acme", "status": "pending"}).json()
    assert {o["id"] for o in acme["items"]} == {o["id"] for o in created if o["customer"] == "acme"}
    assert "Scan" not in calls
    assert "Query" in calls


def test_filter_by_status(client: TestClient, new_order: NewOrder) -> None:
    a, b = new_order(), new_order()
    client.put(f"/api/orders/{a['id']}/status", json={"status": "confirmed", "version": 1})
    confirmed = client.get("/api/orders", params={"status": "confirmed"}).json()["items"]
    pending = client.get("/api/orders", params={"status": "pending"}).json()["items"]
    assert [o["id"] for o in confirmed] == [a["id"]]
    assert [o["id"] for o in pending] == [b["id"]]


@pytest.mark.parametrize(
    "cursor",
    [
        "not-base64!",
        base64.urlsafe_b64encode(b'{"i":"by_status","k":{}}').decode(),
        base64.urlsafe_b64encode(b"[1,2]").decode(),
        "x" * 3000,
    ],
)
def test_bad_cursor_is_400(client: TestClient, cursor: str) -> None:
    response = client.get("/api/orders", params={"cursor": cursor})
    assert response.status_code in (400, 422)
    assert response.headers["content-type"] == "application/problem+json"


def test_cursor_from_another_query_is_400(client: TestClient, new_order: NewOrder) -> None:
    for _ in range(3):
        new_order()
    cursor = client.get("/api/orders", params={"limit": 1}).json()["next_cursor"]
    assert cursor
    response = client.get("/api/orders", params={"limit": 1, "cursor": cursor, "status": "pending"})
    assert response.status_code == 400
    assert response.json()["type"] == "urn:orders:problem:invalid-cursor"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"customer": "a", "product": "p", "quantity": "3"}, "quantity"),
        ({"customer": "a", "product": "p", "quantity": 0}, "quantity"),
        ({"customer": "a", "product": "p", "quantity": 1, "price": 3}, "price"),
        ({"customer": "a" * 101, "product": "p", "quantity": 1}, "customer"),
        # A body without a customer is valid now (a customer's token names it); an operator
        # leaving it out is a 422 customer-required: test_auth_api.py.
    ],
)
def test_bad_input_names_the_field(client: TestClient, body: dict[str, Any], field: str) -> None:
    response = client.post("/api/orders", json=body)
    assert response.status_code == 422
    problem = response.json()
    assert problem["type"] == "urn:orders:problem:validation-error"
    assert field in [e["field"] for e in problem["errors"]]
    assert field in problem["detail"]


def test_bad_json_is_400(client: TestClient) -> None:
    response = client.post(
        "/api/orders", content=b'{"customer": ', headers={"content-type": "application/json"}
    )
    assert response.status_code == 400
    assert response.json()["type"] == "urn:orders:problem:malformed-json"


def test_unknown_order_is_problem_404(client: TestClient) -> None:
    response = client.get(f"/api/orders/{'a' * 32}")
    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["type"] == "urn:orders:problem:not-found"


def test_presigned_post_policy(
    client: TestClient, new_order: NewOrder, aws: dict[str, str]
) -> None:
    order = new_order()
    response = client.post(
        f"/api/orders/{order['id']}/attachments",
        json={"filename": "invoice.pdf", "content_type": "application/pdf", "size": 1000},
    )
    assert response.status_code == 201
    upload = response.json()
    policy = json.loads(base64.b64decode(upload["upload"]["fields"]["policy"]))
    conditions = policy["conditions"]
    assert ["content-length-range", 1, upload["max_bytes"]] in conditions
    assert {"Content-Type": "application/pdf"} in conditions
    assert {"x-amz-server-side-encryption": "aws:kms"} in conditions
    assert {"x-amz-server-side-encryption-aws-kms-key-id": aws["kms_key_id"]} in conditions
    expires = datetime.fromisoformat(policy["expiration"].replace("Z", "+00:00"))
    assert 0 < (expires - datetime.now(UTC)).total_seconds() <= 900
    assert upload["key"].startswith(f"orders/{order['id']}/")


@pytest.mark.parametrize(
    "body",
    [
        {"filename": "../etc/passwd", "content_type": "text/plain"},
        {"filename": "a.exe", "content_type": "application/x-msdownload"},
        {"filename": "big.pdf", "content_type": "application/pdf", "size": 10**12},
    ],
)
def test_attachment_policy_refuses(
    client: TestClient, new_order: NewOrder, body: dict[str, Any]
) -> None:
    order = new_order()
    response = client.post(f"/api/orders/{order['id']}/attachments", json=body)
    assert response.status_code == 422


def test_attachment_upload_and_download_listing(
    client: TestClient, new_order: NewOrder, app: FastAPI
) -> None:
    order = new_order()
    upload = client.post(
        f"/api/orders/{order['id']}/attachments",
        json={"filename": "note.txt", "content_type": "text/plain"},
    ).json()
    s3 = app.state.container.clients.s3
    s3.put_object(
        Bucket=upload["upload"]["url"].split("//")[1].split(".")[0],
        Key=upload["key"],
        Body=b"hello",
        # What the presigned POST's form fields make S3 keep.
        Metadata={"filename": upload["upload"]["fields"]["x-amz-meta-filename"]},
    )
    listing = client.get(f"/api/orders/{order['id']}/attachments").json()["items"]
    assert [(a["filename"], a["size"]) for a in listing] == [("note.txt", 5)]
    assert "X-Amz-Signature" in listing[0]["download_url"]


def test_health_ready_root_and_docs(client: TestClient) -> None:
    assert client.get("/api/health").json() == {"status": "ok"}
    ready = client.get("/api/ready")
    assert ready.status_code == 200
    assert ready.json()["checks"] == {"dynamodb": "ok", "s3": "ok", "eventbridge": "ok"}
    assert client.get("/api").json()["links"]["docs"] == "/api/docs"
    assert "/api/openapi.json" in client.get("/api/docs").text
    spec = client.get("/api/openapi.json").json()
    assert "Problem" in spec["components"]["schemas"]


def test_ready_names_the_failed_dependency(client: TestClient, app: FastAPI) -> None:
    app.state.container.clients.s3.delete_bucket(Bucket=app.state.container.settings.bucket_name)
    response = client.get("/api/ready")
    assert response.status_code == 503
    checks = response.json()["checks"]
    assert checks["dynamodb"] == "ok"
    assert checks["s3"] != "ok"


def test_request_id_is_echoed_or_made(client: TestClient) -> None:
    echoed = client.get("/api/health", headers={"X-Request-Id": "abc-123"})
    assert echoed.headers["x-request-id"] == "abc-123"
    traced = client.get("/api/health", headers={"X-Amzn-Trace-Id": "Root=1-5e1b4151-5ac6c58f"})
    assert traced.headers["x-request-id"] == "1-5e1b4151-5ac6c58f"
    unsafe = client.get("/api/health", headers={"X-Request-Id": "bad id\twith spaces"})
    assert unsafe.headers["x-request-id"] != "bad id\twith spaces"


def test_dependency_failure_is_503_problem(client: TestClient, app: FastAPI) -> None:
    from botocore.exceptions import EndpointConnectionError

    def down(**_: object) -> None:
        raise EndpointConnectionError(endpoint_url="http://dynamodb")

    app.state.container.clients.dynamodb.meta.events.register_first(
        "before-send.dynamodb.GetItem", down
    )
    response = client.get(f"/api/orders/{'b' * 32}")
    assert response.status_code == 503
    assert response.json()["type"] == "urn:orders:problem:dependency-unavailable"
    assert "dynamodb" in response.json()["detail"]


def test_events_say_from_to_when_and_who(client: TestClient, new_order: NewOrder) -> None:
    order = new_order()
    client.post(f"/api/orders/{order['id']}/cancel")

    items = client.get(f"/api/orders/{order['id']}/events").json()["items"]

    assert [(e["detail_type"], e["from_status"], e["to_status"]) for e in items] == [
        ("OrderCreated", None, "pending"),
        ("OrderStatusChanged", "pending", "cancelled"),
    ]
    # The client fixture signs in as the operator: the events name who acted.
    assert [e["actor"] for e in items] == ["operator", "operator"]
    for event in items:
        at = datetime.fromisoformat(event["at"])
        offset = at.utcoffset()
        assert offset is not None
        assert offset.total_seconds() == 0
    assert items[1]["at"] == client.get(f"/api/orders/{order['id']}").json()["updated_at"]
