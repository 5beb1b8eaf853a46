"""Test helpers shared by the tiers: the data plane in moto and the service's environment."""

from __future__ import annotations

import subprocess
import time
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, Protocol

import boto3
import httpx
import pytest
from moto import mock_aws

from devstack.envs import FAKE_CREDENTIALS
from devstack.moto_plane import BUCKET, REGION, TABLE, create_data_plane, service_env
from devstack.outbox_loop import to_lambda_event
from tests import tokens
from tests.env import set_env

if TYPE_CHECKING:
    from collections.abc import Iterator, Mapping
    from pathlib import Path

# What the tiers import from here; the data plane itself lives in devstack.moto_plane (the bench uses it too).
__all__ = [
    "BUCKET",
    "REGION",
    "TABLE",
    "NewOrder",
    "create_data_plane",
    "moto_data_plane",
    "order_maker",
    "service_env",
    "stop_process",
    "stream_event",
    "wait_for",
]


@contextmanager
def moto_data_plane(env: pytest.MonkeyPatch) -> Iterator[dict[str, str]]:
    """moto in-process with the data plane created, and the service env pointing at it.

    Anything that would send the SDK elsewhere (an endpoint, a profile) or load the
    X-Ray SDK is taken out of the environment first.
    """
    for name in ("AWS_ENDPOINT_URL", "AWS_PROFILE", "ORDERS_TRACING_ENABLED"):
        env.delenv(name, raising=False)
    set_env(env, FAKE_CREDENTIALS)
    with mock_aws():
        plane = create_data_plane(boto3.session.Session())
        set_env(env, service_env(plane["kms_key_id"]))
        # Auth on, against the test issuer (tests/tokens.py): the in-process tiers send
        # tokens. service_env turns it off for the processes other tiers start.
        env.delenv("ORDERS_AUTH_DISABLED", raising=False)
        set_env(env, tokens.auth_env())
        yield plane


def stream_event(
    after: Mapping[str, str] | None = None,
) -> tuple[dict[str, Any], dict[str, str]]:
    """Every record on the table's stream (in moto, in-process) after the per-shard sequence
    numbers `after`, as the Lambda event the outbox function gets (devstack's outbox loop
    builds it the same way); and the positions to pass next time."""
    arn = boto3.client("dynamodb", region_name=REGION).describe_table(TableName=TABLE)["Table"][
        "LatestStreamArn"
    ]
    streams = boto3.client("dynamodbstreams", region_name=REGION)
    positions = dict(after or {})
    records: list[Any] = []
    for shard in streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"]:
        shard_id = shard["ShardId"]
        if shard_id in positions:
            iterator: str | None = streams.get_shard_iterator(
                StreamArn=arn,
                ShardId=shard_id,
                ShardIteratorType="AFTER_SEQUENCE_NUMBER",
                SequenceNumber=positions[shard_id],
            )["ShardIterator"]
        else:
            iterator = streams.get_shard_iterator(
                StreamArn=arn, ShardId=shard_id, ShardIteratorType="TRIM_HORIZON"
            )["ShardIterator"]
        while iterator:
            page = streams.get_records(ShardIterator=iterator)
            records += page["Records"]
            if page["Records"]:
                positions[shard_id] = page["Records"][-1]["dynamodb"]["SequenceNumber"]
            iterator = page.get("NextShardIterator") if page["Records"] else None
    return to_lambda_event(records, stream_arn=arn), positions


def stop_process(process: subprocess.Popen[Any], timeout: float = 10.0) -> None:
    """SIGTERM (what ECS and Ctrl-C-like stops send), then SIGKILL if it does not exit."""
    if process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


class NewOrder(Protocol):
    """Creates an order (a valid body, `overrides` on top) and returns the created order."""

    def __call__(self, **overrides: object) -> dict[str, Any]: ...


def order_maker(api: httpx.Client, path: str = "/api/orders") -> NewOrder:
    """A `NewOrder` that posts through `api` (a TestClient or an httpx client) and
    insists on a 201, so a test starts from an order that really exists."""

    def make(**overrides: object) -> dict[str, Any]:
        body = {"customer": "acme", "product": "widget", "quantity": 2, **overrides}
        response = api.post(path, json=body)
        assert response.status_code == 201, response.text
        return dict(response.json())

    return make


def wait_for(
    url: str, process: subprocess.Popen[bytes], log: Path, *, timeout: float = 30.0
) -> None:
    """Poll `url` until it answers; fail with the process's log if it exits or never does."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"{process.args!r} exited with {process.returncode}:\n{log.read_text()}")
        try:
            httpx.get(url, timeout=1.0)
        except httpx.HTTPError:
            time.sleep(0.1)
            continue
        return
    pytest.fail(f"{url} did not answer in {timeout:.0f}s:\n{log.read_text()}")
