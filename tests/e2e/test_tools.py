"""make invoke, make seed and the sam local env file, against the shared running stack."""

from __future__ import annotations

import json
import subprocess
from typing import TYPE_CHECKING, Any

import httpx
import pytest

from devstack.identity import LocalIdentity
from devstack.invoke import NOT_RUNNING, TOKEN_PLACEHOLDER, with_token
from devstack.samenv import ENV_FILE, render
from tests.e2e.stack import ROOT, DevStack, run_module

if TYPE_CHECKING:
    from pathlib import Path

pytestmark = pytest.mark.e2e


def http_api_event(method: str, path: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
    """An API Gateway HTTP API (payload 2.0) event, as `sam local generate-event` shapes it."""
    return {
        "version": "2.0",
        "routeKey": "$default",
        "rawPath": path,
        "rawQueryString": "",
        # `make invoke` puts a fresh token where the placeholder is, as in events/.
        "headers": {
            "content-type": "application/json",
            "host": "api.example.com",
            "authorization": f"Bearer {TOKEN_PLACEHOLDER}",
        },
        "requestContext": {
            "accountId": "123456789012",
            "apiId": "local",
            "domainName": "api.example.com",
            "domainPrefix": "api",
            "http": {
                "method": method,
                "path": path,
                "protocol": "HTTP/1.1",
                "sourceIp": "127.0.0.1",
                "userAgent": "pytest",
            },
            "requestId": "e2e-invoke",
            "routeKey": "$default",
            "stage": "$default",
            "time": "23/Nov/2026:11:00:00 +0000",
            "timeEpoch": 1795431600000,
        },
        "body": json.dumps(body) if body is not None else None,
        "isBase64Encoded": False,
    }


def invoke(event_file: Path, state_dir: Path) -> subprocess.CompletedProcess[str]:
    return run_module("devstack.invoke", str(event_file), "--state-dir", str(state_dir))


def test_invoke_runs_the_lambda_handler_against_the_running_stack(
    dev_stack: DevStack, tmp_path: Path
) -> None:
    # Given an HTTP API event that creates an order
    event = tmp_path / "create.json"
    event.write_text(
        json.dumps(
            http_api_event(
                "POST", "/api/orders", {"customer": "invoke", "product": "widget", "quantity": 1}
            )
        )
    )

    # When `make invoke` hands it to the handler
    result = invoke(event, dev_stack.state_dir)

    # Then stdout is only the response object, and the order is in the stack's table
    assert result.returncode == 0, result.stderr
    response = json.loads(result.stdout)
    assert response["statusCode"] == 201, response
    assert response["headers"]["content-type"] == "application/json"
    order = json.loads(response["body"])
    fetched = httpx.get(f"{dev_stack.api_url}/api/orders/{order['id']}", headers=dev_stack.auth())
    assert fetched.status_code == 200
    assert fetched.json()["customer"] == "invoke"


def test_invoke_replaces_the_token_placeholder_wherever_it_is() -> None:
    event = http_api_event("GET", "/api/orders")
    event["multiValueHeaders"] = {"Authorization": [f"Bearer {TOKEN_PLACEHOLDER}"]}

    replaced = with_token(event, "t0k3n")

    assert replaced["headers"]["authorization"] == "Bearer t0k3n"
    assert replaced["multiValueHeaders"] == {"Authorization": ["Bearer t0k3n"]}
    assert TOKEN_PLACEHOLDER not in json.dumps(replaced)
    # and nothing else changed
    assert {**replaced, "headers": event["headers"], "multiValueHeaders": None} == {
        **event,
        "multiValueHeaders": None,
    }


def test_invoke_without_a_running_stack_says_so(tmp_path: Path) -> None:
    event = tmp_path / "health.json"
    event.write_text(json.dumps(http_api_event("GET", "/api/health")))

    result = invoke(event, tmp_path / "no-stack")

    assert result.returncode == 1
    assert result.stderr.strip() == NOT_RUNNING
    assert result.stdout == ""


def test_seed_creates_orders_in_every_status(dev_stack: DevStack) -> None:
    result = run_module(
        "devstack.seed", "--api", dev_stack.api_url, "--state-dir", str(dev_stack.state_dir)
    )

    assert result.returncode == 0, result.stderr
    statuses = {line.split()[1] for line in result.stdout.splitlines()}
    assert statuses == {"pending", "confirmed", "shipped", "delivered", "cancelled"}


def test_seed_without_an_api_says_so() -> None:
    from devstack.netports import free_port

    result = run_module("devstack.seed", "--api", f"http://127.0.0.1:{free_port()}", timeout=30)

    assert result.returncode == 1
    assert "make dev" in result.stderr


def test_sam_local_env_file_names_what_make_dev_deploys(dev_stack: DevStack) -> None:
    # The emulator's names are seeded and the pool's ids hashed, so they do not depend on
    # the run or the port.
    assert dev_stack.identity is not None
    committed = json.loads((ROOT / ENV_FILE).read_text())
    expected = render(dev_stack.outputs, identity=LocalIdentity(**dev_stack.identity))
    assert committed == expected, f"{ENV_FILE} is stale: run `make sam-env`"
    # and the function checks tokens from make dev's pool
    assert committed["ApiFunction"]["ORDERS_AUTH_ISSUER"] == dev_stack.identity["issuer"]


def test_invoke_refuses_an_event_no_function_takes(tmp_path: Path) -> None:
    event = tmp_path / "bus.json"
    event.write_text(json.dumps({"source": "orders.service", "detail-type": "OrderCreated"}))

    result = invoke(event, tmp_path / "no-stack")

    assert result.returncode == 2
    assert "no function of this service takes it" in result.stderr
