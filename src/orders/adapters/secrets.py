"""Secrets Manager: one version stage of a secret, read with the service's client policy.

Plain GetSecretValue rather than Powertools' SecretsProvider: its cache is keyed by name
only, and the origin check (orders.api.origin_check) needs both AWSCURRENT and AWSPREVIOUS.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from orders.observability import logger
from orders.ports import DependencyUnavailable

if TYPE_CHECKING:
    from orders.settings import Settings

SecretReader = Callable[[str, str], str | None]


def secret_reader(settings: Settings) -> SecretReader:
    """read(arn, stage): the value, None when the stage does not exist (no AWSPREVIOUS before
    the first rotation); DependencyUnavailable when Secrets Manager cannot answer. The
    client is built on first use, so a process that never reads pays nothing."""
    client: Any = None

    def read(arn: str, stage: str) -> str | None:
        nonlocal client
        import boto3

        from orders.adapters.aws import botocore_config

        if client is None:
            client = boto3.session.Session().client(
                "secretsmanager", config=botocore_config(settings)
            )
        try:
            answer = client.get_secret_value(SecretId=arn, VersionStage=stage)
        except client.exceptions.ResourceNotFoundException:
            return None
        except Exception as exc:
            logger.error(
                "secret unavailable", secret_arn=arn, stage=stage, error=type(exc).__name__
            )
            raise DependencyUnavailable(
                "secretsmanager", "GetSecretValue", type(exc).__name__
            ) from exc
        value = answer.get("SecretString")
        return str(value) if value else None

    return read
