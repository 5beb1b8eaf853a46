"""The service's log lines, captured: shared by every tier (no emulator, no process)."""

from __future__ import annotations

import io
from contextlib import contextmanager
from typing import TYPE_CHECKING

from orders.observability import logger

if TYPE_CHECKING:
    from collections.abc import Iterator


@contextmanager
def captured_logs() -> Iterator[io.StringIO]:
    """Powertools' handler keeps the stdout it started with; point it at a buffer while inside."""
    stream = io.StringIO()
    old = logger.registered_handler.setStream(stream)  # type: ignore[attr-defined]
    try:
        yield stream
    finally:
        logger.registered_handler.setStream(old)  # type: ignore[attr-defined]
