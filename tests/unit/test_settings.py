"""Configuration fails at start, naming what is missing."""

from __future__ import annotations

import json

import pytest

from orders.settings import Settings, SettingsError, load_settings
from tests import tokens
from tests.env import set_env
from tests.fakes import Fakes, fake_settings
from tests.logs import captured_logs

VALID = {
    "ORDERS_TABLE_NAME": "orders", "ORDERS_BUCKET_NAME": "bucket",
    "ORDERS_EVENT_BUS_NAME": "bus", "ORDERS_KMS_KEY_ID": "key", "AWS_REGION": "eu-west-1",
}  # fmt: skip


@pytest.fixture(autouse=True)
def _auth_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """The test issuer, as every environment that runs the API sets it."""
    monkeypatch.delenv("ORDERS_AUTH_DISABLED", raising=False)
    monkeypatch.delenv("ORDERS_AUTH_JWKS_URL", raising=False)
    monkeypatch.setenv("ORDERS_AUTH_ISSUER", tokens.ISSUER)
    monkeypatch.setenv("ORDERS_AUTH_CLIENT_IDS", tokens.CLIENT_IDS)


def test_missing_settings_are_named(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("ORDERS_TABLE_NAME", "ORDERS_BUCKET_NAME", "AWS_REGION", "AWS_DEFAULT_REGION"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("ORDERS_EVENT_BUS_NAME", "bus")
    monkeypatch.setenv("ORDERS_KMS_KEY_ID", "key")
    with pytest.raises(SettingsError) as raised:
        load_settings()
    message = str(raised.value)
    assert "ORDERS_TABLE_NAME" in message
    assert "ORDERS_BUCKET_NAME" in message
    assert "AWS_REGION" in message
    assert "ORDERS_EVENT_BUS_NAME" not in message


def test_malformed_value_is_named(monkeypatch: pytest.MonkeyPatch) -> None:
    set_env(monkeypatch, {**VALID, "ORDERS_PRESIGN_EXPIRY_SECONDS": "3600"})
    with pytest.raises(SettingsError, match="ORDERS_PRESIGN_EXPIRY_SECONDS"):
        load_settings()


def test_valid_environment_loads(monkeypatch: pytest.MonkeyPatch) -> None:
    set_env(monkeypatch, {**VALID, "ORDERS_TRACING_ENABLED": "true"})
    settings = load_settings()
    assert settings.region == "eu-west-1"
    assert settings.tracing_enabled is True
    assert settings.presign_expiry_seconds <= 900


def test_the_origin_secret_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    """A blank value (how `sam local` unsets it) means no check; anything else must be an ARN."""
    set_env(monkeypatch, VALID)
    monkeypatch.setenv("ORDERS_ORIGIN_SECRET_ARN", "")
    assert load_settings().origin_secret_arn is None
    monkeypatch.setenv("ORDERS_ORIGIN_SECRET_ARN", "OriginSecret")
    with pytest.raises(SettingsError, match="ORDERS_ORIGIN_SECRET_ARN"):
        load_settings()
    arn = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:origin-AbCdEf"
    monkeypatch.setenv("ORDERS_ORIGIN_SECRET_ARN", arn)
    assert load_settings().origin_secret_arn == arn
    monkeypatch.setenv("AWS_LAMBDA_FUNCTION_NAME", "orders-api")
    assert load_settings().served_by == "lambda"
    monkeypatch.delenv("AWS_LAMBDA_FUNCTION_NAME")
    assert load_settings().served_by == "fargate"


def test_without_an_issuer_the_api_refuses_to_start(monkeypatch: pytest.MonkeyPatch) -> None:
    set_env(monkeypatch, VALID)
    monkeypatch.delenv("ORDERS_AUTH_ISSUER")
    settings = load_settings()  # the outbox's are complete without it
    with pytest.raises(SettingsError, match="ORDERS_AUTH_ISSUER"):
        settings.check_token_settings()
    monkeypatch.setenv("ORDERS_AUTH_ISSUER", tokens.ISSUER)
    monkeypatch.setenv("ORDERS_AUTH_CLIENT_IDS", " , ")
    with pytest.raises(SettingsError, match="ORDERS_AUTH_CLIENT_IDS"):
        load_settings().check_token_settings()


def test_the_outbox_publishes_without_token_settings_the_api_will_not_serve_without() -> None:
    """template.yaml gives the token settings to the API function alone."""
    from orders.app import create_app
    from orders.outbox import outbox_publisher
    from orders.service import NewOrder

    fakes = Fakes()
    container = fakes.container(fake_settings(auth_issuer=None, auth_client_ids=frozenset()))
    container.service.create(NewOrder(customer="acme", product="widget", quantity=1))
    events = fakes.repository.unpublished()

    assert events
    assert outbox_publisher(container).publish(events) == set()
    assert fakes.repository.unpublished() == []
    with captured_logs() as stream, pytest.raises(SettingsError, match="ORDERS_AUTH_ISSUER"):
        create_app(container)
    [line] = [json.loads(line) for line in stream.getvalue().splitlines()]
    assert (line["level"], line["message"]) == ("ERROR", "cannot start")
    assert "ORDERS_AUTH_ISSUER" in line["reason"]


def test_auth_can_only_be_switched_off_explicitly(monkeypatch: pytest.MonkeyPatch) -> None:
    set_env(monkeypatch, VALID)
    monkeypatch.delenv("ORDERS_AUTH_ISSUER")
    monkeypatch.setenv("ORDERS_AUTH_DISABLED", "true")
    assert load_settings().auth_disabled is True


def test_the_auth_settings_are_read(monkeypatch: pytest.MonkeyPatch) -> None:
    set_env(monkeypatch, VALID)
    monkeypatch.setenv("ORDERS_AUTH_CLIENT_IDS", "ui-client, machine-client")
    settings = load_settings()
    assert settings.auth_client_ids == {"ui-client", "machine-client"}
    assert settings.auth_operator_group == "operators"
    assert settings.jwks_url == tokens.ISSUER + "/.well-known/jwks.json"
    monkeypatch.setenv("ORDERS_AUTH_JWKS_URL", "http://127.0.0.1:5000/pool/.well-known/jwks.json")
    assert load_settings().jwks_url == "http://127.0.0.1:5000/pool/.well-known/jwks.json"
    monkeypatch.setenv("ORDERS_AUTH_JWKS_URL", "file:///etc/passwd")
    with pytest.raises(SettingsError, match="ORDERS_AUTH_JWKS_URL"):
        load_settings()


def test_a_collection_variable_is_json_and_a_bad_one_is_named(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for name, value in VALID.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("ORDERS_ALLOWED_CONTENT_TYPES", '["application/pdf", "text/plain"]')
    assert load_settings().allowed_content_types == {"application/pdf", "text/plain"}
    monkeypatch.setenv("ORDERS_ALLOWED_CONTENT_TYPES", "application/pdf")
    with pytest.raises(SettingsError, match="ORDERS_ALLOWED_CONTENT_TYPES"):
        load_settings()


def test_arguments_win_over_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in VALID.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("ORDERS_RATE_LIMIT_PER_MINUTE", "7")
    settings = Settings(table_name="given-table", AWS_REGION="us-east-2")
    assert (settings.table_name, settings.region) == ("given-table", "us-east-2")
    assert settings.bucket_name == "bucket"  # the rest from the environment
    assert settings.rate_limit_per_minute == 7
