"""Environment helpers light enough for the unit tier (no emulator, no process: see
tests/infra/test_repo_habits.py); tests/support.py re-exports them for the other tiers."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Mapping

    import pytest


def set_env(env: pytest.MonkeyPatch, values: Mapping[str, str]) -> None:
    """Every variable of `values` set for this test (monkeypatch undoes them after it)."""
    for name, value in values.items():
        env.setenv(name, value)
