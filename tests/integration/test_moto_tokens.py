"""The tokens moto's cognito-idp issues (what `make dev`'s local issuer hands out) pass the
app's checks and map to the right roles: the claims the contract names are the ones read."""

from __future__ import annotations

import gzip
import json
from importlib import resources
from typing import Any

import boto3
import pytest
from fastapi.testclient import TestClient

from orders.adapters.jwks import KeyCache
from orders.api.auth import InvalidToken, TokenVerifier
from tests import tokens
from tests.fakes import fake_settings
from tests.support import REGION

PASSWORD = "Correct-horse-1"  # moto's pool, in memory, for this test only


def moto_jwks() -> dict[str, Any]:
    """The public keys moto signs with (it serves the same document in server mode)."""
    packed = resources.files("moto.cognitoidp").joinpath("resources/jwks-public.json.gz")
    document: dict[str, Any] = json.loads(gzip.decompress(packed.read_bytes()))
    return document


@pytest.fixture
def pool(aws: dict[str, str]) -> dict[str, Any]:
    idp = boto3.client("cognito-idp", region_name=REGION)
    pool_id = idp.create_user_pool(PoolName="orders-test")["UserPool"]["Id"]
    client_id = idp.create_user_pool_client(
        UserPoolId=pool_id,
        ClientName="orders-ui",
        ExplicitAuthFlows=["ALLOW_ADMIN_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"],
    )["UserPoolClient"]["ClientId"]
    idp.create_group(UserPoolId=pool_id, GroupName="operators")
    for user in ("acme", "operator"):
        idp.admin_create_user(UserPoolId=pool_id, Username=user)
        idp.admin_set_user_password(
            UserPoolId=pool_id, Username=user, Password=PASSWORD, Permanent=True
        )
    idp.admin_add_user_to_group(UserPoolId=pool_id, Username="operator", GroupName="operators")

    def token(user: str, kind: str = "AccessToken") -> str:
        answer = idp.admin_initiate_auth(
            UserPoolId=pool_id,
            ClientId=client_id,
            AuthFlow="ADMIN_USER_PASSWORD_AUTH",
            AuthParameters={"USERNAME": user, "PASSWORD": PASSWORD},
        )
        return str(answer["AuthenticationResult"][kind])

    issuer = f"https://cognito-idp.{REGION}.amazonaws.com/{pool_id}"
    return {"issuer": issuer, "client_id": client_id, "token": token}


def verifier(pool: dict[str, Any]) -> TokenVerifier:
    settings = fake_settings(
        auth_issuer=pool["issuer"], auth_client_ids=frozenset({pool["client_id"]})
    )
    return TokenVerifier(
        settings, KeyCache(tokens.StaticKeySource(moto_jwks()), min_refresh_seconds=60)
    )


def test_moto_access_tokens_name_a_customer_and_an_operator(pool: dict[str, Any]) -> None:
    check = verifier(pool)
    customer = check.verify(pool["token"]("acme"))
    operator = check.verify(pool["token"]("operator"))
    assert (customer.customer, customer.is_operator, customer.is_machine) == ("acme", False, False)
    assert (operator.customer, operator.is_operator) == (None, True)
    assert customer.client_id == pool["client_id"]
    assert customer.caller_id.startswith("user:")


def test_a_moto_id_token_is_not_an_access_token(pool: dict[str, Any]) -> None:
    with pytest.raises(InvalidToken):
        verifier(pool).verify(pool["token"]("acme", "IdToken"))


def test_the_app_serves_a_moto_token(pool: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> None:
    from orders.app import create_app
    from orders.bootstrap import Adapters, bootstrap
    from orders.settings import get_settings

    monkeypatch.setenv("ORDERS_AUTH_ISSUER", pool["issuer"])
    monkeypatch.setenv("ORDERS_AUTH_CLIENT_IDS", pool["client_id"])
    get_settings.cache_clear()
    app = create_app(bootstrap(adapters=Adapters(key_source=tokens.StaticKeySource(moto_jwks()))))
    acme = TestClient(app, headers={"Authorization": f"Bearer {pool['token']('acme')}"})
    created = acme.post("/api/orders", json={"product": "widget", "quantity": 1})
    assert created.status_code == 201, created.text
    assert created.json()["customer"] == "acme"
    # A token of our own test issuer is not one of this pool's
    stranger = TestClient(app, headers=tokens.bearer("acme"))
    assert stranger.get("/api/orders").status_code == 401
