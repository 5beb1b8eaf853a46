"""HTTP semantics a client expects: 404 for any unknown id, JSON without a Content-Type,
415 for other types, optional preconditions (412 for a stale If-Match), conditional GET,
and a complete Allow on 405."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest

from orders.adapters.ratelimit import RATE_PREFIX
from orders.domain.model import OrderEvent, OrderStatus

if TYPE_CHECKING:
    from fastapi import FastAPI
    from fastapi.testclient import TestClient

BODY = {"customer": "acme", "product": "widget", "quantity": 2}


@pytest.mark.parametrize("order_id", ["does-not-exist", "A" * 32, "x" * 3000, "0" * 31])
@pytest.mark.parametrize(
    ("method", "suffix", "body"),
    [
        ("GET", "", None),
        ("PUT", "/status", {"status": "confirmed"}),
        ("POST", "/cancel", None),
        ("GET", "/events", None),
        ("GET", "/attachments", None),
    ],
)
def test_an_id_no_order_can_have_is_a_404_without_a_table_call(
    client: TestClient, app: FastAPI, order_id: str, method: str, suffix: str, body: Any
) -> None:
    calls: list[str] = []

    def record(model: Any, params: dict[str, Any], **_: Any) -> None:
        # The per-caller throttle counts every request (orders.adapters.ratelimit): not a
        # lookup of the order.
        if not params.get("Key", {}).get("pk", {}).get("S", "").startswith(RATE_PREFIX):
            calls.append(model.name)

    ddb = app.state.container.clients.dynamodb
    ddb.meta.events.register("before-parameter-build.dynamodb.*", record)
    response = client.request(method, f"/api/orders/{order_id}{suffix}", json=body)
    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["type"] == "urn:orders:problem:not-found"
    assert calls == []


def test_json_without_a_content_type_is_read_as_json(client: TestClient) -> None:
    response = client.post(
        "/api/orders",
        content=b'{"customer": "acme", "product": "widget", "quantity": 2}',
        headers={"content-type": ""},
    )
    assert response.status_code == 201, response.text
    assert response.json()["quantity"] == 2


@pytest.mark.parametrize(
    "content_type",
    ["application/x-www-form-urlencoded", "text/plain", "multipart/form-data; boundary=x"],
)
def test_another_content_type_is_415_naming_json(client: TestClient, content_type: str) -> None:
    response = client.post(
        "/api/orders",
        content=b'{"customer": "acme", "product": "widget", "quantity": 2}',
        headers={"content-type": content_type},
    )
    assert response.status_code == 415
    assert response.headers["content-type"] == "application/problem+json"
    problem = response.json()
    assert problem["type"] == "urn:orders:problem:unsupported-media-type"
    assert problem["expected"] == "application/json"
    assert "application/json" in problem["detail"]


def test_a_json_suffix_type_and_a_charset_are_json(client: TestClient) -> None:
    for content_type in ("application/json; charset=utf-8", "application/vnd.orders+json"):
        response = client.post(
            "/api/orders",
            content=b'{"customer": "acme", "product": "widget", "quantity": 2}',
            headers={"content-type": content_type},
        )
        assert response.status_code == 201, (content_type, response.text)


def test_a_bodyless_cancel_with_a_form_type_is_not_refused(client: TestClient) -> None:
    order = client.post("/api/orders", json=BODY).json()
    response = client.post(
        f"/api/orders/{order['id']}/cancel",
        headers={"content-type": "application/x-www-form-urlencoded"},
    )
    assert response.status_code == 200
    assert response.json()["status"] == "cancelled"


def test_preconditions_stale_if_match_is_412_stale_body_version_409(client: TestClient) -> None:
    order = client.post("/api/orders", json=BODY).json()
    url = f"/api/orders/{order['id']}/status"
    assert client.put(url, json={"status": "confirmed"}).status_code == 200

    stale_header = client.put(url, json={"status": "shipped"}, headers={"If-Match": '"1"'})
    stale_body = client.put(url, json={"status": "shipped", "version": 1})
    disagree = client.put(
        url, json={"status": "shipped", "version": 2}, headers={"If-Match": '"1"'}
    )
    fresh = client.put(url, json={"status": "shipped"}, headers={"If-Match": '"2"'})
    any_version = client.put(url, json={"status": "delivered"}, headers={"If-Match": "*"})

    assert stale_header.status_code == 412
    assert stale_header.json()["type"] == "urn:orders:problem:precondition-failed"
    assert stale_header.json()["current_version"] == 2
    assert stale_body.status_code == 409
    assert stale_body.json()["type"] == "urn:orders:problem:version-conflict"
    assert disagree.status_code == 400
    assert fresh.status_code == 200
    assert fresh.json()["version"] == 3
    assert any_version.status_code == 200
    assert any_version.json()["status"] == "delivered"


def test_a_cancel_with_a_stale_if_match_is_412(client: TestClient) -> None:
    order = client.post("/api/orders", json=BODY).json()
    client.put(f"/api/orders/{order['id']}/status", json={"status": "confirmed"})
    response = client.post(f"/api/orders/{order['id']}/cancel", headers={"If-Match": '"1"'})
    assert response.status_code == 412
    assert client.get(f"/api/orders/{order['id']}").json()["status"] == "confirmed"


def _race_once(app: FastAPI, order_id: str, racer_target: OrderStatus) -> None:
    """Before the next status write, another writer moves the order to racer_target."""
    ddb = app.state.container.clients.dynamodb
    repo = app.state.container.repository
    state = {"done": False}

    def racer(**_: object) -> None:
        if state["done"]:
            return
        state["done"] = True
        current = repo.get(order_id)
        changed = current.transition(racer_target)
        repo.save_transition(
            changed,
            expected_version=current.version,
            event=OrderEvent.status_changed(changed, previous=current.status),
        )

    ddb.meta.events.register("before-call.dynamodb.TransactWriteItems", racer)


def test_a_lost_race_without_a_precondition_reapplies_to_the_new_version(
    client: TestClient, app: FastAPI
) -> None:
    order = client.post("/api/orders", json=BODY).json()
    _race_once(app, order["id"], OrderStatus.CONFIRMED)
    response = client.put(f"/api/orders/{order['id']}/status", json={"status": "cancelled"})
    assert response.status_code == 200
    assert response.json()["version"] == 3
    events = client.get(f"/api/orders/{order['id']}/events").json()["items"]
    statuses = [e["detail"]["order"]["status"] for e in events]
    assert statuses == ["pending", "confirmed", "cancelled"]  # nobody's change was lost


def test_a_lost_race_that_makes_the_change_illegal_is_409(client: TestClient, app: FastAPI) -> None:
    order = client.post("/api/orders", json=BODY).json()
    _race_once(app, order["id"], OrderStatus.CANCELLED)
    response = client.put(f"/api/orders/{order['id']}/status", json={"status": "confirmed"})
    assert response.status_code == 409
    assert response.json()["type"] == "urn:orders:problem:illegal-transition"
    assert client.get(f"/api/orders/{order['id']}").json()["status"] == "cancelled"


def test_a_lost_race_with_if_match_is_412_not_retried(client: TestClient, app: FastAPI) -> None:
    order = client.post("/api/orders", json=BODY).json()
    _race_once(app, order["id"], OrderStatus.CONFIRMED)
    response = client.put(
        f"/api/orders/{order['id']}/status",
        json={"status": "cancelled"},
        headers={"If-Match": '"1"'},
    )
    assert response.status_code == 412
    assert client.get(f"/api/orders/{order['id']}").json()["status"] == "confirmed"


def test_if_none_match_with_the_current_etag_is_304(client: TestClient) -> None:
    order = client.post("/api/orders", json=BODY).json()
    url = f"/api/orders/{order['id']}"
    first = client.get(url)
    assert first.headers["etag"] == '"1"'
    assert first.headers["cache-control"] == "private, no-cache"

    not_modified = client.get(url, headers={"If-None-Match": '"1"'})
    assert not_modified.status_code == 304
    assert not_modified.content == b""
    assert not_modified.headers["etag"] == '"1"'
    assert not_modified.headers["cache-control"] == "private, no-cache"
    assert client.get(url, headers={"If-None-Match": '"7", W/"1"'}).status_code == 304
    assert client.get(url, headers={"If-None-Match": "*"}).status_code == 304

    client.put(f"{url}/status", json={"status": "confirmed"})
    changed = client.get(url, headers={"If-None-Match": '"1"'})
    assert changed.status_code == 200
    assert changed.json()["version"] == 2
    assert changed.headers["etag"] == '"2"'


def test_integral_numbers_are_integers(client: TestClient) -> None:
    created = client.post("/api/orders", json={**BODY, "quantity": 3.0})
    assert created.status_code == 201
    assert created.json()["quantity"] == 3
    url = f"/api/orders/{created.json()['id']}/status"
    assert client.put(url, json={"status": "confirmed", "version": 1.5}).status_code == 422
    assert client.put(url, json={"status": "confirmed", "version": True}).status_code == 422
    assert client.put(url, json={"status": "confirmed", "version": 1.0}).status_code == 200


@pytest.mark.parametrize(
    ("path", "allowed"),
    [("/api/orders", "GET, POST"), (f"/api/orders/{'a' * 32}/status", "PUT")],
)
def test_405_lists_every_method_of_the_path(client: TestClient, path: str, allowed: str) -> None:
    response = client.options(path)
    assert response.status_code == 405
    assert response.headers["allow"] == allowed
    assert response.headers["content-type"] == "application/problem+json"


def test_optional_headers_are_documented_as_strings_not_null(client: TestClient) -> None:
    spec = client.get("/api/openapi.json").json()
    headers = [
        p
        for path in spec["paths"].values()
        for operation in path.values()
        for p in operation.get("parameters", [])
        if p["in"] == "header"
    ]
    assert {h["name"] for h in headers} == {"Idempotency-Key", "If-Match", "If-None-Match"}
    for header in headers:
        assert header["schema"]["type"] == "string", header
        assert "anyOf" not in header["schema"]
    # Accepting 3.0 as an integer keeps the documented bounds.
    quantity = spec["components"]["schemas"]["OrderCreate"]["properties"]["quantity"]
    assert (quantity["exclusiveMinimum"], quantity["maximum"]) == (0, 10_000)
    status = spec["paths"]["/api/orders/{order_id}/status"]["put"]["responses"]
    assert "412" in status
    assert "428" not in status
