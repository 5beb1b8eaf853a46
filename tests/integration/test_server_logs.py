"""Under the container's server each request is logged once, as JSON; the lifespan runs, so
the metrics gathered are written when the server is stopped the way ECS stops it (SIGTERM);
and a request in flight at that moment is answered before the server exits.

The container runs granian (devstack.commands.api_command, the Dockerfile's CMD with host
and port changed); uvicorn, the alternative, is held to the same behaviour.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import time
from pathlib import Path

import httpx
import pytest

from tests.integration.servers import SERVERS, STOPPED, running
from tests.support import service_env


def server_env() -> dict[str, str]:
    env = {
        **os.environ,
        **service_env("alias/orders-test"),
        "ORDERS_METRICS_FLUSH_SECONDS": "60",
        # No AWS here at all: the throttle's counter store is DynamoDB.
        "ORDERS_RATE_LIMIT_PER_MINUTE": "0",
    }
    env.pop("AWS_ENDPOINT_URL", None)
    return env


@pytest.mark.parametrize("server", SERVERS)
def test_one_json_access_line_per_request_and_metrics_flushed_on_sigterm(
    tmp_path: Path, server: str
) -> None:
    log = tmp_path / "server.log"
    with running(server, log, server_env()) as (port, process):
        for i in range(3):
            response = httpx.get(
                f"http://127.0.0.1:{port}/api/health", headers={"X-Request-Id": f"r{i}"}
            )
            assert response.status_code == 200
        # Gathered, not yet written: the flush interval has not passed.
        assert '"_aws"' not in log.read_text()
        process.send_signal(signal.SIGTERM)  # as ECS sends it
        assert process.wait(timeout=10) in STOPPED
    lines = log.read_text().splitlines()
    access = [json.loads(line) for line in lines if '"message":"request"' in line]
    assert [a["correlation_id"] for a in access] == ["warmup", "r0", "r1", "r2"]
    assert not [line for line in lines if "GET /api/health HTTP" in line]  # no server line
    # The lifespan's shutdown ran: the metrics gathered were written on the way out.
    emf = [json.loads(line) for line in lines if line.startswith('{"_aws"')]
    assert sum(doc["Requests"][0] for doc in emf) == 4.0


@pytest.mark.parametrize("server", SERVERS)
def test_a_request_in_flight_at_sigterm_is_answered(tmp_path: Path, server: str) -> None:
    """A deploy stops the old task while it serves: the request it holds still gets its answer."""
    body = b'{"customer": "acme", "product": "p", "quantity": "many"}'
    head = (
        "POST /api/orders HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\n\r\n"
    ).encode()
    log = tmp_path / "server.log"
    with running(server, log, server_env()) as (port, process):
        with socket.create_connection(("127.0.0.1", port), timeout=10) as conn:
            conn.sendall(head + body[:10])  # the request has begun; its body is on the way
            time.sleep(0.3)
            process.send_signal(signal.SIGTERM)
            time.sleep(0.5)
            assert process.poll() is None, "exited with a request in flight"
            conn.sendall(body[10:])
            response = b""
            while b"\r\n\r\n" not in response and (chunk := conn.recv(65536)):
                response += chunk
        assert process.wait(timeout=10) in STOPPED, log.read_text()
    assert response.startswith(b"HTTP/1.1 422 "), response[:200]  # validated, not cut off
