"""Fixtures: an in-process moto data plane, the service's environment, and the app."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from tests.support import moto_data_plane

if TYPE_CHECKING:
    from collections.abc import Iterator

    from fastapi import FastAPI


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, str]]:
    """moto in-process with the data plane created; the service env set to point at it."""
    with moto_data_plane(monkeypatch) as plane:
        from orders.settings import get_settings

        get_settings.cache_clear()
        yield plane
        get_settings.cache_clear()


@pytest.fixture
def app(aws: dict[str, str]) -> FastAPI:
    from orders.app import create_app

    return create_app()
