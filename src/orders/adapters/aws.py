"""AWS clients, built once per process with the one retry and timeout policy.

boto3 is imported when the clients are built, not when this module is: importing
boto3 costs about a quarter of a second, and a Lambda cold start that serves a
request needing no AWS call (health, docs) should not pay it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

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
    from botocore.config import Config

    session = session or new_session()
    config = botocore_config(settings)
    return AwsClients(
        dynamodb=session.client("dynamodb", config=config),
        s3=session.client("s3", config=config.merge(Config(signature_version="s3v4"))),
        events=session.client("events", config=config),
    )


# The service models botocore loaded (its loader caches them per instance), shared by the
# sessions new_session makes.
_loader: Any = None


def new_session() -> boto3.session.Session:
    """A boto3 session of its own (credentials, clients, connections) sharing one loader of
    service models: a client built after a SnapStart restore reads no model files
    (orders.snapstart), while nothing else of the snapshot's session is shared."""
    import boto3
    import botocore.session

    global _loader
    core = botocore.session.get_session()
    if _loader is None:
        _loader = core.get_component("data_loader")
    else:
        core.register_component("data_loader", _loader)
    return boto3.session.Session(botocore_session=core)
