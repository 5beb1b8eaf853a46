"""The `dev_stack` fixture: one real stack on loopback, shared by the e2e (and UI) tests."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from tests.e2e.stack import DevStack, alive, start

if TYPE_CHECKING:
    from collections.abc import Iterator


@pytest.fixture(scope="session")
def dev_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DevStack]:
    """`python -m devstack` on free ports: api_url, ui_url, endpoint_url, outputs."""
    stack = start(tmp_path_factory.mktemp("devstack"))
    yield stack
    code = stack.stop()
    assert code == 0, "".join(stack.output)
    assert not [name for name, pid in stack.children.items() if alive(pid)]
