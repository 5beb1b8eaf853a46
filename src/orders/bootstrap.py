"""The one place that wires settings -> clients -> adapters -> services.

Settings are read and checked when the container is made, so a bad environment
still fails at start. The rest (boto3, three clients, the adapters) can be wired on
first use instead (`lazy=True`, what the Lambda handler asks for): importing boto3
and building its clients is most of a cold start, and a request that needs no AWS
call (health, docs) should not pay it. Either way it happens once per process.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import TYPE_CHECKING

from orders.settings import Settings, get_settings

if TYPE_CHECKING:
    import boto3

    from orders.adapters.dynamodb import DynamoOrderRepository
    from orders.adapters.eventbridge import EventBridgePublisher
    from orders.aws import AwsClients
    from orders.service import OrderService


@dataclass(frozen=True, slots=True)
class _Wired:
    clients: AwsClients
    repository: DynamoOrderRepository
    publisher: EventBridgePublisher
    service: OrderService


class Container:
    """Settings, and the clients, adapters and service built from them once per process."""

    __slots__ = ("_lock", "_session", "_wired", "settings")

    def __init__(self, settings: Settings, session: boto3.session.Session | None = None) -> None:
        self.settings = settings
        self._session = session
        self._lock = threading.Lock()
        self._wired: _Wired | None = None

    def wire(self) -> _Wired:
        """Build clients, adapters and service if not yet built (thread-safe, once)."""
        wired = self._wired
        if wired is None:
            # uvicorn serves sync routes from a thread pool: two first requests may race.
            with self._lock:
                if self._wired is None:
                    self._wired = _wire(self.settings, self._session)
                wired = self._wired
        return wired

    @property
    def clients(self) -> AwsClients:
        return self.wire().clients

    @property
    def repository(self) -> DynamoOrderRepository:
        return self.wire().repository

    @property
    def publisher(self) -> EventBridgePublisher:
        return self.wire().publisher

    @property
    def service(self) -> OrderService:
        return self.wire().service


def bootstrap(
    settings: Settings | None = None,
    session: boto3.session.Session | None = None,
    *,
    lazy: bool = False,
) -> Container:
    """Build everything once per process (Lambda execution environment or uvicorn worker).

    lazy=True defers clients, adapters and service to their first use.
    """
    container = Container(settings or get_settings(), session)
    if not lazy:
        container.wire()
    return container


def _wire(settings: Settings, session: boto3.session.Session | None) -> _Wired:
    # Imported here: the adapters import boto3 (see the module docstring).
    from orders.adapters.dynamodb import DynamoOrderRepository
    from orders.adapters.eventbridge import EventBridgePublisher
    from orders.adapters.idempotency import PowertoolsIdempotency
    from orders.adapters.s3 import S3AttachmentStore
    from orders.aws import build_clients
    from orders.service import AttachmentPolicy, OrderService

    clients = build_clients(settings, session)
    repository = DynamoOrderRepository(table_name=settings.table_name, client=clients.dynamodb)
    publisher = EventBridgePublisher(bus_name=settings.event_bus_name, client=clients.events)
    service = OrderService(
        repository=repository,
        attachments=S3AttachmentStore(
            bucket=settings.bucket_name,
            kms_key_id=settings.kms_key_id,
            client=clients.s3,
            expiry_seconds=settings.presign_expiry_seconds,
        ),
        publisher=publisher,
        idempotency=PowertoolsIdempotency(
            table_name=settings.table_name,
            client=clients.dynamodb,
            ttl_seconds=settings.idempotency_ttl_seconds,
            request_timeout_seconds=settings.request_timeout_seconds,
        ),
        attachment_policy=AttachmentPolicy(
            max_bytes=settings.max_attachment_bytes,
            allowed_content_types=settings.allowed_content_types,
        ),
    )
    return _Wired(clients=clients, repository=repository, publisher=publisher, service=service)
