"""Fixtures: an in-process moto data plane, the service's environment, and the app."""

from __future__ import annotations

from typing import TYPE_CHECKING

import boto3
import pytest
from moto import mock_aws

from tests.support import create_data_plane, service_env

if TYPE_CHECKING:
    from collections.abc import Iterator

    from fastapi import FastAPI


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, str]]:
    """moto in-process with the data plane created; the service env set to point at it."""
    for name in ("AWS_ENDPOINT_URL", "AWS_PROFILE", "ORDERS_TRACING_ENABLED"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    with mock_aws():
        plane = create_data_plane(boto3.session.Session())
        for name, value in service_env(plane["kms_key_id"]).items():
            monkeypatch.setenv(name, value)
        from orders.settings import get_settings

        get_settings.cache_clear()
        yield plane
        get_settings.cache_clear()


@pytest.fixture
def app(aws: dict[str, str]) -> FastAPI:
    from orders.app import create_app

    return create_app()
