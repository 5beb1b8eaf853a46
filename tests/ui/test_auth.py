"""Sign-in against moto's cognito-idp (in-process), with the client secret in Secrets Manager."""

from __future__ import annotations

from typing import TYPE_CHECKING

import boto3
import pytest
from moto import mock_aws

from tests.support import REGION
from ui.auth import Authenticator, SignInFailed, claims

if TYPE_CHECKING:
    from collections.abc import Iterator


@pytest.fixture
def pool() -> Iterator[Authenticator]:
    with mock_aws():
        session = boto3.session.Session(
            aws_access_key_id="testing", aws_secret_access_key="testing", region_name=REGION
        )
        cognito = session.client("cognito-idp")
        pool_id = cognito.create_user_pool(PoolName="orders-local")["UserPool"]["Id"]
        client = cognito.create_user_pool_client(
            UserPoolId=pool_id,
            ClientName="orders-ui",
            GenerateSecret=True,
            ExplicitAuthFlows=["ALLOW_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"],
        )["UserPoolClient"]
        secrets = session.client("secretsmanager")
        arn = secrets.create_secret(Name="ui-secret", SecretString=client["ClientSecret"])["ARN"]
        cognito.create_group(UserPoolId=pool_id, GroupName="operators")
        for user in ("acme", "operator"):
            cognito.admin_create_user(UserPoolId=pool_id, Username=user)
            cognito.admin_set_user_password(
                UserPoolId=pool_id, Username=user, Password="Pass-word-1234", Permanent=True
            )
        cognito.admin_add_user_to_group(
            UserPoolId=pool_id, Username="operator", GroupName="operators"
        )
        yield Authenticator(client["ClientId"], secret_arn=arn, cognito=cognito, secrets=secrets)


def test_an_operator_signs_in_with_the_secret_hash_and_refreshes(pool: Authenticator) -> None:
    session = pool.sign_in("operator", "Pass-word-1234")

    assert session.username == "operator"
    assert session.is_operator
    assert session.customer is None
    assert claims(session.access_token)["token_use"] == "access"
    refreshed = pool.refresh(session)
    assert refreshed.username == "operator"
    assert refreshed.refresh_token == session.refresh_token


def test_a_customer_is_their_username(pool: Authenticator) -> None:
    session = pool.sign_in("acme", "Pass-word-1234")

    assert not session.is_operator
    assert session.customer == "acme"


@pytest.mark.parametrize(("user", "password"), [("acme", "wrong"), ("nobody", "Pass-word-1234")])
def test_a_wrong_password_or_user_gets_the_same_plain_words(
    pool: Authenticator, user: str, password: str
) -> None:
    with pytest.raises(SignInFailed) as caught:
        pool.sign_in(user, password)

    assert caught.value.message == "Wrong username or password."


def test_a_missing_secret_is_said_without_details(pool: Authenticator) -> None:
    broken = Authenticator(
        pool.client_id,
        secret_arn="no-such-secret",
        cognito=pool._cognito,
        secrets=pool._secrets,
    )

    with pytest.raises(SignInFailed) as caught:
        broken.sign_in("acme", "Pass-word-1234")

    assert "could not read its client secret" in caught.value.message


def test_the_token_is_refreshed_two_minutes_before_it_expires(pool: Authenticator) -> None:
    session = pool.sign_in("acme", "Pass-word-1234")

    assert not session.needs_refresh(now=session.expires_at - 121)
    assert session.needs_refresh(now=session.expires_at - 119)
