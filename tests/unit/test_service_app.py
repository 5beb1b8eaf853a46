"""The seam: the same app, built by the same bootstrap, serving requests from the fakes."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from orders.app import API_PREFIX, create_app
from tests import tokens
from tests.fakes import Fakes

ORDERS = f"{API_PREFIX}/orders"


@pytest.fixture
def client(fakes: Fakes) -> TestClient:
    return TestClient(
        create_app(fakes.container(), trace_requests=False), headers=tokens.bearer("acme")
    )


def test_a_created_order_is_stored_in_the_fake_and_served_back(
    client: TestClient, fakes: Fakes
) -> None:
    body = {"customer": "acme", "product": "widget", "quantity": 3}

    created = client.post(ORDERS, json=body, headers={"Idempotency-Key": "k-1"})
    replayed = client.post(ORDERS, json=body, headers={"Idempotency-Key": "k-1"})

    assert created.status_code == 201, created.text
    order_id = created.json()["id"]
    assert created.headers["Location"] == f"{ORDERS}/{order_id}"
    assert fakes.repository.get(order_id).customer == "acme"
    assert replayed.status_code == 201
    assert replayed.headers["Idempotent-Replayed"] == "true"
    assert replayed.json() == created.json()
    got = client.get(f"{ORDERS}/{order_id}")
    assert got.status_code == 200
    assert got.headers["ETag"] == '"1"'
    assert got.json() == created.json()


def test_a_fake_outage_is_a_503_problem_and_readiness_names_it(
    client: TestClient, fakes: Fakes
) -> None:
    fakes.repository.outages.fail("get")
    fakes.publisher.outages.fail("ping")

    failed = client.get(f"{ORDERS}/{'0' * 32}")
    ready = client.get(f"{API_PREFIX}/ready")

    assert failed.status_code == 503
    assert failed.headers["Content-Type"] == "application/problem+json"
    assert failed.json()["type"] == "urn:orders:problem:dependency-unavailable"
    assert ready.status_code == 503
    assert ready.json()["checks"] == {"dynamodb": "ok", "s3": "ok", "eventbridge": "fake outage"}


def test_a_container_on_fakes_builds_no_aws_client(fakes: Fakes) -> None:
    container = fakes.container()

    assert container.service is not None
    with pytest.raises(RuntimeError, match="no AWS clients"):
        _ = container.clients
