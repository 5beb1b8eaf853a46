"""Run by test_server_tracing in a fresh process (X-Ray patches botocore for good).

Serves two requests with request tracing on, against moto in-process; the segments
go to AWS_XRAY_DAEMON_ADDRESS, where the test listens.
"""

from __future__ import annotations

import os
import sys

import boto3
from fastapi.testclient import TestClient
from moto import mock_aws

from tests.support import create_data_plane, service_env

TRACE_ROOT = "1-5759e988-bd862e3fe1be46a994272793"

if __name__ == "__main__":
    with mock_aws():
        plane = create_data_plane(boto3.session.Session())
        os.environ.update(service_env(plane["kms_key_id"]))
        from orders.app import create_app

        client = TestClient(create_app(trace_requests=True))
        order = client.post("/api/orders", json={"customer": "c", "product": "p", "quantity": 1})
        header = f"Root={TRACE_ROOT};Parent=53995c3f42cd8ad8;Sampled=1"
        got = client.get(f"/api/orders/{order.json()['id']}", headers={"X-Amzn-Trace-Id": header})
        print(got.status_code, file=sys.stderr)
