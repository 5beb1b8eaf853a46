"""Tiny HTTP probes (standard library only: they run before anything heavy is imported)."""

from __future__ import annotations

import urllib.error
import urllib.request


def http_ok(url: str, timeout: float = 1.0) -> bool:
    """True when `url` answers 200 within `timeout`."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:  # noqa: S310 (http only)
            return bool(response.status == 200)
    except (urllib.error.URLError, OSError, ValueError):
        return False
