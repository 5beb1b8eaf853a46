"""Under uvicorn (the container's command) each request is logged once, as JSON, and
the metrics gathered are written when the server is stopped the way ECS stops it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import httpx

from devstack.netports import free_port
from tests.support import service_env


def test_one_json_access_line_per_request_and_metrics_flushed_on_sigterm(
    tmp_path: Path,
) -> None:
    port = free_port()
    log = tmp_path / "server.log"
    env = {**os.environ, **service_env("alias/orders-test"), "ORDERS_METRICS_FLUSH_SECONDS": "60"}
    env.pop("AWS_ENDPOINT_URL", None)
    uvicorn = Path(sys.executable).with_name("uvicorn")
    with log.open("w") as out:
        server = subprocess.Popen(
            [
                str(uvicorn),
                "orders.app:create_app",
                "--factory",
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
            ],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                httpx.get(f"http://127.0.0.1:{port}/api/health", headers={"X-Request-Id": "warmup"})
                break
            except httpx.TransportError:
                assert time.monotonic() < deadline, log.read_text()
                time.sleep(0.1)
        for i in range(3):
            response = httpx.get(
                f"http://127.0.0.1:{port}/api/health", headers={"X-Request-Id": f"r{i}"}
            )
            assert response.status_code == 200
        # Gathered, not yet written: the flush interval has not passed.
        assert '"_aws"' not in log.read_text()
    finally:
        server.terminate()  # SIGTERM, as ECS sends it
        server.wait(timeout=10)
    lines = log.read_text().splitlines()
    access = [json.loads(line) for line in lines if '"message":"request"' in line]
    assert [a["correlation_id"] for a in access] == ["warmup", "r0", "r1", "r2"]
    assert not [line for line in lines if "GET /api/health HTTP" in line]
    emf = [json.loads(line) for line in lines if line.startswith('{"_aws"')]
    assert sum(doc["Requests"][0] for doc in emf) == 4.0
