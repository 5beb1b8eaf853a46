"""The service tier: the production wiring (bootstrap) around in-memory fakes of the ports."""

from __future__ import annotations

import pytest

from orders.service import OrderService
from tests.fakes import Fakes


@pytest.fixture
def fakes() -> Fakes:
    return Fakes()


@pytest.fixture
def service(fakes: Fakes) -> OrderService:
    return fakes.container().service
