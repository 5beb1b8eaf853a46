"""Create is idempotent through crashes: the API process dies mid-create, a retry with the
same Idempotency-Key makes exactly one order and gets one answer.

A real uvicorn process (the container's command) against a moto server process. The
crash is injected from the test side only: a `sitecustomize` module on the API's
PYTHONPATH wraps the repository's `add` to `os._exit` at the chosen point, so nothing
in src/ knows about it. The two points:

- before-write: Powertools has stored its in-progress record, the order is not written;
- after-write: the order transaction committed, the reply was never sent.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import boto3
import httpx
import pytest

from devstack.identity import with_auth
from devstack.identity_provision import provision
from devstack.netports import free_port
from devstack.tokens import machine_token
from tests.support import REGION, TABLE, create_data_plane, service_env, stop_process, wait_for

if TYPE_CHECKING:
    from collections.abc import Iterator

pytestmark = pytest.mark.e2e

REPO = Path(__file__).resolve().parents[2]
START_TIMEOUT = 30.0
CRASH_EXIT_CODE = 70
# How long a crashed attempt's in-progress record holds its key (ORDERS_REQUEST_TIMEOUT_SECONDS).
CLAIM_SECONDS = 2

CRASH_HOOK = f'''
"""Test-only crash points for the API process (see {Path(__file__).name})."""
import os

_point = os.environ.get("CRASH_TEST_POINT")
if _point:
    from orders.adapters import dynamodb

    _add = dynamodb.DynamoOrderRepository.add

    def add(self, order, event, **kwargs):
        if _point == "before-write":
            os._exit({CRASH_EXIT_CODE})
        _add(self, order, event, **kwargs)
        os._exit({CRASH_EXIT_CODE})

    dynamodb.DynamoOrderRepository.add = add
'''

BODY: dict[str, Any] = {"customer": "crash-co", "product": "widget", "quantity": 4}


def _base_env() -> dict[str, str]:
    # Nothing from the developer's shell may point the processes at real AWS.
    return {
        k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "ORDERS_", "POWERTOOLS_"))
    }


def _wait_for(url: str, process: subprocess.Popen[bytes], log: Path) -> None:
    wait_for(url, process, log, timeout=START_TIMEOUT)


@contextmanager
def _process(args: list[str], env: dict[str, str], log: Path) -> Iterator[subprocess.Popen[bytes]]:
    with log.open("ab") as sink:
        process = subprocess.Popen(args, env=env, stdout=sink, stderr=subprocess.STDOUT, cwd=REPO)
    try:
        yield process
    finally:
        stop_process(process)


@pytest.fixture(scope="module")
def plane(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    """A moto server process with the data plane; the API's environment for it."""
    logs = tmp_path_factory.mktemp("crash")
    port = free_port()
    endpoint = f"http://127.0.0.1:{port}"
    moto_args = [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)]
    with _process(moto_args, _base_env(), logs / "moto.log") as moto:
        _wait_for(f"{endpoint}/moto-api/", moto, logs / "moto.log")
        with pytest.MonkeyPatch.context() as patch:
            patch.setenv("AWS_ENDPOINT_URL", endpoint)
            session = boto3.session.Session(
                aws_access_key_id="testing", aws_secret_access_key="testing", region_name=REGION
            )
            made = create_data_plane(session)
        # The user pool, in the same emulator, as `make dev` creates it.
        local, _ = provision(endpoint, made["kms_key_id"], logs)
        hook_dir = logs / "hook"
        hook_dir.mkdir()
        (hook_dir / "sitecustomize.py").write_text(CRASH_HOOK)
        # The service's environment, checking tokens against the emulator's pool.
        api = with_auth(
            service_env(
                made["kms_key_id"],
                AWS_ENDPOINT_URL=endpoint,
                ORDERS_REQUEST_TIMEOUT_SECONDS=str(CLAIM_SECONDS),
            ),
            local,
        )
        env = {
            **_base_env(),
            **api,
            "PYTHONPATH": os.pathsep.join([str(hook_dir), os.environ.get("PYTHONPATH", "")]),
        }
        token = machine_token(local)
        yield {"endpoint": endpoint, "logs": str(logs), "token": token, **env}


@contextmanager
def api(
    plane: dict[str, str], crash_at: str | None
) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    """uvicorn with the container's command, optionally armed to crash at one point."""
    port = free_port()
    env = {k: v for k, v in plane.items() if k not in {"endpoint", "logs", "token"}}
    if crash_at:
        env["CRASH_TEST_POINT"] = crash_at
    args = [
        sys.executable, "-m", "uvicorn", "orders.app:create_app", "--factory",
        "--host", "127.0.0.1", "--port", str(port),
    ]  # fmt: skip
    log = Path(plane["logs"]) / f"api-{crash_at or 'clean'}-{port}.log"
    with _process(args, env, log) as process:
        url = f"http://127.0.0.1:{port}"
        _wait_for(f"{url}/api/health", process, log)
        yield url, process


def _orders_in_table(endpoint: str, customer: str) -> list[dict[str, Any]]:
    ddb = boto3.client(
        "dynamodb",
        endpoint_url=endpoint,
        region_name=REGION,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )
    return ddb.query(
        TableName=TABLE,
        IndexName="by_customer",
        KeyConditionExpression="customer = :c",
        ExpressionAttributeValues={":c": {"S": customer}},
    )["Items"]


def _headers(plane: dict[str, str], key: str | None = None) -> dict[str, str]:
    """The machine client's token (it may act for any customer), and the key if any."""
    headers = {"Authorization": f"Bearer {plane['token']}"}
    return {**headers, "Idempotency-Key": key} if key else headers


def _create_until_done(
    url: str, key: str, body: dict[str, Any], headers: dict[str, str]
) -> httpx.Response:
    """POST like a careful client: on 409 in-progress, wait as Retry-After says, then retry."""
    deadline = time.monotonic() + 4 * CLAIM_SECONDS + 5
    while True:
        response = httpx.post(f"{url}/api/orders", json=body, headers=headers, timeout=10)
        if response.status_code != 409:
            return response
        assert response.json()["type"] == "urn:orders:problem:idempotency-in-progress"
        retry_after = int(response.headers["Retry-After"])
        assert retry_after >= 1
        assert time.monotonic() < deadline, "the crashed attempt's claim never lapsed"
        time.sleep(retry_after)


@pytest.mark.parametrize("crash_at", ["before-write", "after-write"])
def test_a_crash_then_a_retry_makes_one_order_and_one_answer(
    plane: dict[str, str], crash_at: str
) -> None:
    key = f"crash-{crash_at}"
    body = {**BODY, "customer": f"crash-{crash_at}"}

    # Given an API that dies at the crash point while creating the order
    with api(plane, crash_at) as (url, process):
        with pytest.raises(httpx.TransportError):
            httpx.post(f"{url}/api/orders", json=body, headers=_headers(plane, key), timeout=10)
        assert process.wait(timeout=10) == CRASH_EXIT_CODE
    written = _orders_in_table(plane["endpoint"], body["customer"])
    assert len(written) == (0 if crash_at == "before-write" else 1)

    # When the client retries with the same key against a restarted API
    with api(plane, None) as (url, _):
        first = _create_until_done(url, key, body, _headers(plane, key))
        again = httpx.post(f"{url}/api/orders", json=body, headers=_headers(plane, key), timeout=10)
        other_body = httpx.post(
            f"{url}/api/orders",
            json={**body, "quantity": 5},
            headers=_headers(plane, key),
            timeout=10,
        )
        order_id = first.json()["id"]
        stored = httpx.get(f"{url}/api/orders/{order_id}", headers=_headers(plane), timeout=10)
        events = httpx.get(
            f"{url}/api/orders/{order_id}/events", headers=_headers(plane), timeout=10
        ).json()["items"]

    # Then there is exactly one order, and every answer for the key is the same one
    assert first.status_code == 201, first.text
    assert again.status_code == 201
    assert again.json() == first.json() == stored.json()
    assert again.headers["etag"] == first.headers["etag"] == '"1"'
    assert again.headers["location"] == first.headers["location"]
    assert again.headers["idempotent-replayed"] == "true"
    if crash_at == "after-write":
        # The order the crashed attempt wrote is the one answered, recognised as a replay.
        assert first.headers["idempotent-replayed"] == "true"
        assert order_id == written[0]["id"]["S"]
    assert other_body.status_code == 422
    assert other_body.json()["type"] == "urn:orders:problem:idempotency-key-reused"
    assert len(_orders_in_table(plane["endpoint"], body["customer"])) == 1
    assert [e["detail_type"] for e in events] == ["OrderCreated"]
