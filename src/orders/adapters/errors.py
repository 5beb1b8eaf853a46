"""Turning SDK failures into DependencyUnavailable, logged once with context."""

from __future__ import annotations

from contextlib import contextmanager
from typing import TYPE_CHECKING

from botocore.exceptions import BotoCoreError, ClientError

from orders.observability import logger
from orders.ports import DependencyUnavailable

if TYPE_CHECKING:
    from collections.abc import Iterator


def error_code(exc: ClientError) -> str:
    return str(exc.response.get("Error", {}).get("Code", "Unknown"))


@contextmanager
def dependency(name: str, operation: str, **context: object) -> Iterator[None]:
    """Report any SDK failure left after botocore's bounded retries as DependencyUnavailable."""
    try:
        yield
    except ClientError as exc:
        code = error_code(exc)
        logger.error(
            "dependency call failed",
            dependency=name,
            operation=operation,
            error_code=code,
            request_id=exc.response.get("ResponseMetadata", {}).get("RequestId"),
            **context,  # type: ignore[arg-type]
        )
        raise DependencyUnavailable(name, operation, code) from exc
    except BotoCoreError as exc:
        logger.error(
            "dependency unreachable",
            dependency=name,
            operation=operation,
            error=type(exc).__name__,
            **context,  # type: ignore[arg-type]
        )
        raise DependencyUnavailable(name, operation, type(exc).__name__) from exc
