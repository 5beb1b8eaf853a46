from __future__ import annotations

from typing import TYPE_CHECKING

import pytest
from fastapi.testclient import TestClient

if TYPE_CHECKING:
    from fastapi import FastAPI


@pytest.fixture
def client(app: FastAPI) -> TestClient:
    return TestClient(app, raise_server_exceptions=False)


@pytest.fixture
def new_order(client: TestClient):  # type: ignore[no-untyped-def]
    def make(**overrides: object) -> dict[str, object]:
        body = {"customer": "acme", "product": "widget", "quantity": 2, **overrides}
        response = client.post("/api/orders", json=body)
        assert response.status_code == 201, response.text
        return dict(response.json())

    return make
