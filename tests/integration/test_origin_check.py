"""The origin check in the app: API requests through API Gateway or the ALB without the front
door's header are refused (403 problem+json); health, and calls from inside the VPC, are not."""

from __future__ import annotations

import base64
import json
from typing import TYPE_CHECKING, Any

import boto3
import pytest
from fastapi.testclient import TestClient
from mangum import Mangum

from devstack.invoke import InvocationContext
from tests import tokens
from tests.contract.replay import EVENTS_DIR, load_event
from tests.env import set_env
from tests.logs import captured_logs
from tests.support import REGION

# An operator may do everything these tests do (tests/tokens.py).
AUTH = tokens.bearer("operator")

if TYPE_CHECKING:
    from fastapi import FastAPI

SECRET = "x" * 64


@pytest.fixture
def secret_arn(aws: dict[str, str]) -> str:
    """The origin secret in (moto's) Secrets Manager, as the root template creates it."""
    client = boto3.client("secretsmanager", region_name=REGION)
    return str(client.create_secret(Name="orders-origin", SecretString=SECRET)["ARN"])


def build_app(monkeypatch: pytest.MonkeyPatch, **env: str) -> FastAPI:
    from orders.app import create_app
    from orders.settings import get_settings

    set_env(monkeypatch, env)
    get_settings.cache_clear()
    return create_app(metrics_flush_seconds=0)


def invoke(app: FastAPI, event: dict[str, Any], **headers: str) -> tuple[int, dict[str, Any]]:
    """Serve one Lambda event through Mangum, as the function does; status and JSON body."""
    event = json.loads(json.dumps(event))
    event["headers"].update(headers)
    answer = Mangum(app, lifespan="off")(event, InvocationContext(function_name="orders-api"))  # type: ignore[arg-type]
    body = answer["body"]
    if answer.get("isBase64Encoded"):
        body = base64.b64decode(body).decode()
    return answer["statusCode"], json.loads(body) if body else {}


@pytest.mark.parametrize("shape", ["apigw-v2", "alb"])
def test_lambda_refuses_api_events_without_the_header(
    monkeypatch: pytest.MonkeyPatch, secret_arn: str, shape: str
) -> None:
    # Given the function, which gets the secret's ARN (never its value)
    app = build_app(monkeypatch, ORDERS_ORIGIN_SECRET_ARN=secret_arn)
    event = load_event(EVENTS_DIR / shape / "list-orders.json")
    # When a request reaches it around the front door, or with a wrong value
    status, body = invoke(app, event)
    wrong, _ = invoke(app, event, **{"x-origin-verify": "y" * 64})
    # Then it is refused as a problem; through the front door it is served
    assert (status, wrong) == (403, 403)
    assert body["type"] == "urn:orders:problem:not-through-front-door"
    assert body["status"] == 403
    ok, _ = invoke(app, event, **{"x-origin-verify": SECRET})
    assert ok == 200


def test_lambda_health_answers_without_the_header(
    monkeypatch: pytest.MonkeyPatch, secret_arn: str
) -> None:
    app = build_app(monkeypatch, ORDERS_ORIGIN_SECRET_ARN=secret_arn)
    status, _ = invoke(app, load_event(EVENTS_DIR / "alb/health.json"))
    assert status == 200


def test_uvicorn_refuses_what_the_alb_forwarded_without_the_header(
    monkeypatch: pytest.MonkeyPatch, aws: dict[str, str]
) -> None:
    # Given a task with the value ECS injected from Secrets Manager
    client = TestClient(build_app(monkeypatch, ORDERS_ORIGIN_SECRET=SECRET), headers=AUTH)
    via_alb = {"X-Forwarded-For": "198.51.100.7"}
    refused = client.get("/api/orders", headers=via_alb)
    assert refused.status_code == 403
    assert refused.headers["content-type"] == "application/problem+json"
    assert "x-request-id" in refused.headers  # logged and counted like any request
    served = client.get("/api/orders", headers={**via_alb, "X-Origin-Verify": SECRET})
    assert served.status_code == 200
    # The ALB's health check and the UI's in-VPC calls (no X-Forwarded-For) pass.
    assert client.get("/api/health", headers=via_alb).status_code == 200
    assert client.get("/api/orders").status_code == 200


def test_secrets_manager_unreachable_is_a_503_not_a_pass(
    monkeypatch: pytest.MonkeyPatch, aws: dict[str, str]
) -> None:
    missing = "arn:aws:secretsmanager:us-east-1:123456789012:secret:gone-AbCdEf"
    app = build_app(monkeypatch, ORDERS_ORIGIN_SECRET_ARN=missing)
    status, body = invoke(
        app, load_event(EVENTS_DIR / "alb/list-orders.json"), **{"x-origin-verify": SECRET}
    )
    assert status == 503
    assert body["type"] == "urn:orders:problem:dependency-unavailable"


def test_no_secret_setting_means_no_check(app: FastAPI) -> None:
    """make dev and the tests run without a front door."""
    client = TestClient(app, headers=AUTH)
    assert client.get("/api/orders", headers={"X-Forwarded-For": "203.0.113.1"}).status_code == 200


@pytest.mark.parametrize(("function_name", "target"), [("orders-api", "lambda"), (None, "fargate")])
def test_logs_and_metrics_name_the_target_that_served(
    monkeypatch: pytest.MonkeyPatch,
    aws: dict[str, str],
    capsys: pytest.CaptureFixture[str],
    function_name: str | None,
    target: str,
) -> None:
    """During a move both targets serve: each request's log line and metrics say which."""

    from orders.observability import flush_metrics, logger

    flush_metrics()
    if function_name:
        monkeypatch.setenv("AWS_LAMBDA_FUNCTION_NAME", function_name)
    try:
        with captured_logs() as stream:
            client = TestClient(build_app(monkeypatch), headers=AUTH)
            capsys.readouterr()
            assert client.get("/api/orders").status_code == 200
    finally:
        logger.remove_keys(["target"])
    lines = [json.loads(line) for line in stream.getvalue().splitlines() if line.startswith("{")]
    access = [line for line in lines if line.get("message") == "request"]
    assert access
    assert {line["target"] for line in access} == {target}
    documents = [json.loads(x) for x in capsys.readouterr().out.splitlines() if x.startswith("{")]
    emf = [d for d in documents if "_aws" in d and "Requests" in d]
    assert emf
    assert emf[-1]["target"] == target
    assert ["service", "target"] in emf[-1]["_aws"]["CloudWatchMetrics"][0]["Dimensions"]


def test_the_origin_check_runs_before_the_body_policy(
    monkeypatch: pytest.MonkeyPatch, aws: dict[str, str]
) -> None:
    """Middleware order (orders.app): a request around the front door is refused before its
    body is looked at; through the front door the body policy applies as before."""
    client = TestClient(build_app(monkeypatch, ORDERS_ORIGIN_SECRET=SECRET), headers=AUTH)
    via_alb = {"X-Forwarded-For": "198.51.100.7", "Content-Type": "text/plain"}
    too_large = b"x" * (2 * 1024 * 1024)
    # Around the front door: 403, whatever the body (no 413, no 415 to strangers)
    refused = client.post("/api/orders", content=too_large, headers=via_alb)
    assert refused.status_code == 403
    assert refused.json()["type"] == "urn:orders:problem:not-through-front-door"
    # Through it: the body policy answers (too large, then the wrong type)
    through = {**via_alb, "X-Origin-Verify": SECRET}
    assert client.post("/api/orders", content=too_large, headers=through).status_code == 413
    assert client.post("/api/orders", content=b"x", headers=through).status_code == 415
