"""Under uvicorn (Fargate) requests are traced to the X-Ray daemon, boto3 calls included."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path
from typing import Any

from tests.integration.xray_probe import TRACE_ROOT

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
