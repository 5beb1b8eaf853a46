"""The UI's configuration: the one place in src/ui that reads the environment."""

from __future__ import annotations

import os
from dataclasses import dataclass

DEFAULT_API_URL = "http://127.0.0.1:8000"
DEFAULT_TIMEOUT_SECONDS = 5.0


@dataclass(frozen=True, slots=True)
class UiSettings:
    api_url: str
    timeout_seconds: float


def load_settings() -> UiSettings:
    """Settings from ORDERS_API_URL and ORDERS_API_TIMEOUT_SECONDS.

    Read on every script run (it is cheap), so a changed environment needs no restart
    and tests can point one process at different APIs.
    """
    api_url = os.environ.get("ORDERS_API_URL", "").strip() or DEFAULT_API_URL
    raw_timeout = os.environ.get("ORDERS_API_TIMEOUT_SECONDS", "").strip()
    try:
        timeout = float(raw_timeout) if raw_timeout else DEFAULT_TIMEOUT_SECONDS
    except ValueError:
        timeout = DEFAULT_TIMEOUT_SECONDS
    if timeout <= 0:
        timeout = DEFAULT_TIMEOUT_SECONDS
    return UiSettings(api_url=api_url.rstrip("/"), timeout_seconds=timeout)
