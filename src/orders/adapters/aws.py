"""AWS clients, built once per process with the one retry and timeout policy.

boto3 is imported when the clients are built, not when this module is: importing
boto3 costs about a quarter of a second, and a Lambda cold start that serves a
request needing no AWS call (health, docs) should not pay it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import boto3
    from botocore.config import Config
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_events import EventBridgeClient
    from mypy_boto3_s3 import S3Client

    from orders.settings import Settings


@dataclass(frozen=True, slots=True)
class AwsClients:
    dynamodb: DynamoDBClient
    s3: S3Client
    events: EventBridgeClient


def botocore_config(settings: Settings) -> Config:
    """Bounded retries and timeouts for every call: the only retry policy in the service."""
    from botocore.config import Config

    return Config(
        region_name=settings.region,
        retries={"mode": "standard", "total_max_attempts": settings.aws_max_attempts},
        connect_timeout=settings.aws_connect_timeout_seconds,
        read_timeout=settings.aws_read_timeout_seconds,
        # uvicorn runs blocking calls on a pool of 40 threads; keep a connection for each.
        max_pool_connections=50,
    )


def build_clients(settings: Settings, session: boto3.session.Session | None = None) -> AwsClients:
    """One client per service. AWS_ENDPOINT_URL (the local emulator) is read by the SDK itself."""
    import boto3
    from botocore.config import Config

    session = session or boto3.session.Session()
    config = botocore_config(settings)
    return AwsClients(
        dynamodb=session.client("dynamodb", config=config),
        s3=session.client("s3", config=config.merge(Config(signature_version="s3v4"))),
        events=session.client("events", config=config),
    )
