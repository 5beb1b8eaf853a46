"""On Fargate (granian; uvicorn the alternative) requests are traced to the X-Ray daemon,
boto3 calls included."""

from __future__ import annotations

import contextlib
import json
import os
import socket
import subprocess
import sys
from pathlib import Path
from typing import Any

import boto3
import httpx
import pytest

from devstack.netports import free_port
from tests.integration.servers import SERVERS, running, wait_until_up
from tests.integration.xray_probe import TRACE_ROOT
from tests.support import create_data_plane, service_env

MOTO_ENV = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_REGION": "us-east-1",
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_ACCOUNT_ID_ENDPOINT_MODE": "disabled",
}

REPO = Path(__file__).resolve().parents[2]


def segments_from(datagrams: list[bytes]) -> list[dict[str, Any]]:
    # Each datagram is a header line, then one segment or subsegment document.
    return [json.loads(d.split(b"\n", 1)[1]) for d in datagrams]


def test_request_segment_with_dynamodb_subsegments_reaches_the_daemon() -> None:
    # Given a UDP socket standing in for the X-Ray daemon sidecar
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as daemon:
        daemon.bind(("127.0.0.1", 0))
        daemon.settimeout(0.5)
        address = f"127.0.0.1:{daemon.getsockname()[1]}"
        # When the app serves a traced request
        env = {**os.environ, "AWS_XRAY_DAEMON_ADDRESS": address, "PYTHONPATH": str(REPO)}
        env.pop("AWS_ENDPOINT_URL", None)
        probe = subprocess.run(
            [sys.executable, "-m", "tests.integration.xray_probe"],
            cwd=REPO, env=env, capture_output=True, text=True, timeout=120, check=False,
        )  # fmt: skip
        assert probe.returncode == 0, probe.stderr[-3000:]
        datagrams = []
        try:
            while True:
                datagrams.append(daemon.recv(65535))
        except TimeoutError:
            pass
    # Then the daemon got that request's segment, in the caller's trace
    segments = [s for s in segments_from(datagrams) if s.get("trace_id") == TRACE_ROOT]
    assert len(segments) == 1, [s.get("trace_id") for s in segments_from(datagrams)]
    segment = segments[0]
    assert segment["name"] == "orders"
    assert segment["parent_id"] == "53995c3f42cd8ad8"
    assert segment["http"]["response"]["status"] == 200
    assert segment["http"]["request"]["method"] == "GET"
    # and the DynamoDB call made on the thread pool is a subsegment of it
    calls = [(s["name"], s.get("aws", {}).get("operation")) for s in segment.get("subsegments", [])]
    assert ("dynamodb", "GetItem") in calls


@pytest.mark.parametrize("server", SERVERS)
def test_the_server_sends_each_request_segment_to_the_daemon(
    tmp_path: Path, server: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The middleware's X-Ray segments, through a real server process (granian in the
    container, uvicorn the alternative) against a moto server: the request's segment with
    the DynamoDB call made on the server's thread pool inside it."""
    moto_port = free_port()
    moto = subprocess.Popen(
        [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(moto_port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    endpoint = f"http://127.0.0.1:{moto_port}"
    try:
        wait_until_up(f"{endpoint}/moto-api/", moto)
        for name, value in {**MOTO_ENV, "AWS_ENDPOINT_URL": endpoint}.items():
            monkeypatch.setenv(name, value)
        plane = create_data_plane(boto3.session.Session())
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as daemon:
            daemon.bind(("127.0.0.1", 0))
            daemon.settimeout(1.0)
            env = {
                **os.environ,
                **service_env(plane["kms_key_id"]),
                **MOTO_ENV,
                "AWS_ENDPOINT_URL": endpoint,
                "ORDERS_TRACING_ENABLED": "true",
                "ORDERS_RATE_LIMIT_PER_MINUTE": "0",
                "AWS_XRAY_DAEMON_ADDRESS": f"127.0.0.1:{daemon.getsockname()[1]}",
            }
            log = tmp_path / "server.log"
            with running(server, log, env) as (port, _):
                base = f"http://127.0.0.1:{port}/api/orders"
                created = httpx.post(base, json={"customer": "c", "product": "p", "quantity": 1})
                assert created.status_code == 201, created.text
                header = f"Root={TRACE_ROOT};Parent=53995c3f42cd8ad8;Sampled=1"
                got = httpx.get(
                    f"{base}/{created.json()['id']}", headers={"X-Amzn-Trace-Id": header}
                )
                assert got.status_code == 200, got.text
                datagrams = []
                with contextlib.suppress(TimeoutError):
                    while True:
                        datagrams.append(daemon.recv(65535))
    finally:
        moto.terminate()
        moto.wait(timeout=10)
    segments = [s for s in segments_from(datagrams) if s.get("trace_id") == TRACE_ROOT]
    assert len(segments) == 1, log.read_text()[-3000:]
    calls = [
        (s["name"], s.get("aws", {}).get("operation")) for s in segments[0].get("subsegments", [])
    ]
    assert ("dynamodb", "GetItem") in calls
    assert segments[0]["http"]["response"]["status"] == 200
