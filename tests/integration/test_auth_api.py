"""Authentication and authorization through the app on moto: lists, cursors, the issuer, docs."""

from __future__ import annotations

import base64
import json
from typing import TYPE_CHECKING

import pytest
from fastapi import Request
from fastapi.testclient import TestClient

from devstack.netports import free_port
from orders.api.auth import PrincipalDep
from tests import tokens
from tests.env import set_env

if TYPE_CHECKING:
    from fastapi import FastAPI

ORDERS = "/api/orders"


def as_user(app: FastAPI, user: str) -> TestClient:
    return TestClient(app, raise_server_exceptions=False, headers=tokens.bearer(user))


def fresh_app(monkeypatch: pytest.MonkeyPatch, **env: str) -> FastAPI:
    from orders.app import create_app
    from orders.settings import get_settings

    set_env(monkeypatch, env)
    get_settings.cache_clear()
    return create_app(metrics_flush_seconds=0)


@pytest.fixture
def shop(client: TestClient) -> dict[str, list[str]]:
    """Orders of three customers, made by the operator (the client fixture)."""
    made: dict[str, list[str]] = {}
    for customer, count in (("acme", 3), ("globex", 2), ("initech", 1)):
        for _ in range(count):
            body = {"customer": customer, "product": "widget", "quantity": 1}
            response = client.post(ORDERS, json=body)
            assert response.status_code == 201, response.text
            made.setdefault(customer, []).append(response.json()["id"])
    return made


def test_a_customers_list_holds_only_its_orders(app: FastAPI, shop: dict[str, list[str]]) -> None:
    acme = as_user(app, "acme")
    listed = acme.get(ORDERS).json()["items"]
    assert sorted(o["id"] for o in listed) == sorted(shop["acme"])
    # Paging through it stays in it
    ids, cursor = [], None
    while True:
        page = acme.get(ORDERS, params={"limit": 1, **({"cursor": cursor} if cursor else {})})
        assert page.status_code == 200
        ids += [o["id"] for o in page.json()["items"]]
        cursor = page.json()["next_cursor"]
        if not cursor:
            break
    assert sorted(ids) == sorted(shop["acme"])
    # Asking for another customer's list is refused, not answered with theirs
    other = acme.get(ORDERS, params={"customer": "globex"})
    assert other.status_code == 403
    assert other.json()["type"] == "urn:orders:problem:forbidden"


def test_a_cursor_of_the_unfiltered_list_reads_nothing_for_a_customer(
    app: FastAPI, client: TestClient, shop: dict[str, list[str]]
) -> None:
    # Given a cursor the operator got for the list of every customer's orders
    first = client.get(ORDERS, params={"limit": 1})
    unfiltered = first.json()["next_cursor"]
    assert unfiltered
    # When a customer sends it
    replayed = as_user(app, "acme").get(ORDERS, params={"cursor": unfiltered, "limit": 10})
    # Then it is refused: the customer's list is another query, and the cursor is bound to its own
    assert replayed.status_code == 400
    assert replayed.json()["type"] == "urn:orders:problem:invalid-cursor"


def test_a_forged_cursor_for_another_customer_is_refused(
    app: FastAPI, client: TestClient, shop: dict[str, list[str]]
) -> None:
    # The operator's genuine cursor for globex's list, and one hand-edited to say globex
    genuine = client.get(ORDERS, params={"customer": "globex", "limit": 1}).json()["next_cursor"]
    acme_cursor = as_user(app, "acme").get(ORDERS, params={"limit": 1}).json()["next_cursor"]
    raw = json.loads(base64.urlsafe_b64decode(acme_cursor + "=" * (-len(acme_cursor) % 4)))
    raw["k"]["customer"] = "globex"
    forged = base64.urlsafe_b64encode(json.dumps(raw).encode()).decode().rstrip("=")
    acme = as_user(app, "acme")
    for cursor in (genuine, forged):
        answer = acme.get(ORDERS, params={"cursor": cursor})
        assert answer.status_code == 400, answer.text
        assert "globex" not in answer.text


def test_the_customer_comes_from_the_token(app: FastAPI, client: TestClient) -> None:
    acme = as_user(app, "acme")
    mine = acme.post(ORDERS, json={"product": "widget", "quantity": 1})
    assert mine.status_code == 201
    assert mine.json()["customer"] == "acme"
    theirs = acme.post(ORDERS, json={"customer": "globex", "product": "widget", "quantity": 1})
    assert theirs.status_code == 403
    assert theirs.json()["type"] == "urn:orders:problem:forbidden"
    unnamed = client.post(ORDERS, json={"product": "widget", "quantity": 1})
    assert unnamed.status_code == 422
    assert unnamed.json()["type"] == "urn:orders:problem:customer-required"
    assert unnamed.json()["errors"][0]["field"] == "customer"


def test_another_customers_order_is_a_404_like_a_missing_one(
    app: FastAPI, shop: dict[str, list[str]]
) -> None:
    globex = as_user(app, "globex")
    theirs = globex.get(f"{ORDERS}/{shop['acme'][0]}")
    missing = globex.get(f"{ORDERS}/{'f' * 32}")
    assert theirs.status_code == missing.status_code == 404
    assert theirs.json()["type"] == missing.json()["type"]
    cancel = globex.post(f"{ORDERS}/{shop['acme'][0]}/cancel")
    assert cancel.status_code == 404
    assert as_user(app, "acme").get(f"{ORDERS}/{shop['acme'][0]}").json()["status"] == "pending"


def test_a_malformed_authorization_header_is_a_401_that_says_so(app: FastAPI) -> None:
    client = TestClient(app, raise_server_exceptions=False)
    for header in ("Basic YWxhZGRpbjpvcGVuc2VzYW1l", "Bearer", "Bearer not-a-jwt"):
        answer = client.get(ORDERS, headers={"Authorization": header})
        assert answer.status_code == 401, header
        assert answer.headers["content-type"] == "application/problem+json"
        assert answer.headers["www-authenticate"].startswith('Bearer error="invalid_token"')


def test_a_failing_issuer_is_a_logged_503_not_a_500(
    monkeypatch: pytest.MonkeyPatch, aws: dict[str, str], caplog: pytest.LogCaptureFixture
) -> None:
    app = fresh_app(monkeypatch, ORDERS_AUTH_JWKS_URL=f"http://127.0.0.1:{free_port()}/jwks.json")
    answer = as_user(app, "acme").get(ORDERS)
    assert answer.status_code == 503
    assert answer.json()["type"] == "urn:orders:problem:dependency-unavailable"
    assert "token issuer" in answer.json()["detail"]
    assert any(r.getMessage() == "jwks fetch failed" for r in caplog.records)
    # The public routes do not need the issuer
    assert TestClient(app).get("/api/health").status_code == 200


def test_the_docs_show_which_routes_need_a_token(app: FastAPI) -> None:
    document = TestClient(app).get("/api/openapi.json").json()
    scheme = document["components"]["securitySchemes"]["bearer"]
    assert (scheme["type"], scheme["scheme"]) == ("http", "bearer")
    for path, item in document["paths"].items():
        for method, operation in item.items():
            public = path in {"/api/health", "/api/ready"}
            assert ("security" in operation) is not public, f"{method} {path}"
            if not public:
                assert operation["security"] == [{"bearer": []}]
                assert "401" in operation["responses"]


def test_without_an_issuer_the_app_does_not_start(
    monkeypatch: pytest.MonkeyPatch, aws: dict[str, str]
) -> None:
    from orders.settings import SettingsError

    monkeypatch.delenv("ORDERS_AUTH_ISSUER")
    with pytest.raises(SettingsError, match="ORDERS_AUTH_ISSUER"):
        fresh_app(monkeypatch)


def test_auth_switched_off_explicitly_serves_without_a_token(
    monkeypatch: pytest.MonkeyPatch, aws: dict[str, str], caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.delenv("ORDERS_AUTH_ISSUER")
    app = fresh_app(monkeypatch, ORDERS_AUTH_DISABLED="true")
    assert any("authentication is disabled" in r.getMessage() for r in caplog.records)
    assert TestClient(app).get(ORDERS).status_code == 200


def test_tokens_never_reach_the_logs(app: FastAPI, caplog: pytest.LogCaptureFixture) -> None:
    good, expired = tokens.mint("acme"), tokens.mint("acme", exp=1_700_000_000)
    client = TestClient(app, raise_server_exceptions=False)
    assert client.get(ORDERS, headers={"Authorization": f"Bearer {good}"}).status_code == 200
    assert client.get(ORDERS, headers={"Authorization": f"Bearer {expired}"}).status_code == 401
    text = "\n".join(r.getMessage() + repr(r.__dict__) for r in caplog.records)
    assert "unauthenticated" in text  # the refusal is logged, with its reason
    for token in (good, expired):
        assert token not in text
        assert token.split(".")[2] not in text  # not even the signature


def test_the_principal_is_on_the_request_state(app: FastAPI) -> None:
    # FastAPI resolves the route's annotations in this module: Request and PrincipalDep
    # are imported at its top for that.
    seen = {}

    @app.get("/api/whoami-test")
    def whoami(request: Request, principal: PrincipalDep) -> dict[str, str]:
        seen["state"] = request.state.principal
        return {"caller": principal.caller_id}

    answer = as_user(app, "acme").get("/api/whoami-test")
    assert answer.json() == {"caller": "user:sub-acme"}
    assert seen["state"].customer == "acme"
