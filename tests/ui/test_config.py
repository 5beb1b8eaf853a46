"""Where the UI finds the API."""

from __future__ import annotations

import pytest

from ui.config import DEFAULT_API_URL, DEFAULT_MAX_UPLOAD_MB, DEFAULT_TIMEOUT_SECONDS, load_settings


def test_defaults_to_the_api_make_dev_runs(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("ORDERS_API_URL", raising=False)
    monkeypatch.delenv("ORDERS_API_TIMEOUT_SECONDS", raising=False)
    monkeypatch.delenv("ORDERS_UI_MAX_UPLOAD_MB", raising=False)

    settings = load_settings()

    assert settings.api_url == DEFAULT_API_URL == "http://127.0.0.1:8000"
    assert settings.timeout_seconds == DEFAULT_TIMEOUT_SECONDS
    assert settings.max_upload_mb == DEFAULT_MAX_UPLOAD_MB == 10  # the API's 10 MiB


def test_reads_the_url_and_timeout_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ORDERS_API_URL", " http://alb.example/ ")
    monkeypatch.setenv("ORDERS_API_TIMEOUT_SECONDS", "12.5")

    settings = load_settings()

    assert (settings.api_url, settings.timeout_seconds) == ("http://alb.example", 12.5)


def test_a_bad_timeout_falls_back_to_the_default(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ORDERS_API_TIMEOUT_SECONDS", "soon")

    assert load_settings().timeout_seconds == DEFAULT_TIMEOUT_SECONDS


def test_reads_the_upload_limit_and_ignores_a_bad_one(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ORDERS_UI_MAX_UPLOAD_MB", "25")
    assert load_settings().max_upload_mb == 25
    for bad in ("lots", "0", "-3"):
        monkeypatch.setenv("ORDERS_UI_MAX_UPLOAD_MB", bad)
        assert load_settings().max_upload_mb == DEFAULT_MAX_UPLOAD_MB
