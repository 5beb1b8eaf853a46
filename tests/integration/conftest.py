from __future__ import annotations

from typing import TYPE_CHECKING

import pytest
from fastapi.testclient import TestClient

from tests import tokens
from tests.support import NewOrder, order_maker

if TYPE_CHECKING:
    from fastapi import FastAPI


@pytest.fixture
def client(app: FastAPI) -> TestClient:
    """The app with an operator's token on every request (it may do everything); tests
    about what a customer or machine may do send their own header (tests/tokens.py)."""
    return TestClient(app, raise_server_exceptions=False, headers=tokens.bearer("operator"))


@pytest.fixture
def new_order(client: TestClient) -> NewOrder:
    return order_maker(client)
