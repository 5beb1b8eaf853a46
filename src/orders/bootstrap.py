"""The one place that wires settings -> clients -> adapters -> services."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from orders.adapters.dynamodb import DynamoOrderRepository
from orders.adapters.eventbridge import EventBridgePublisher
from orders.adapters.idempotency import PowertoolsIdempotency
from orders.adapters.s3 import S3AttachmentStore
from orders.aws import AwsClients, build_clients
from orders.service import AttachmentPolicy, OrderService
from orders.settings import Settings, get_settings

if TYPE_CHECKING:
    import boto3


@dataclass(frozen=True, slots=True)
class Container:
    settings: Settings
    clients: AwsClients
    repository: DynamoOrderRepository
    publisher: EventBridgePublisher
    service: OrderService


def bootstrap(
    settings: Settings | None = None, session: boto3.session.Session | None = None
) -> Container:
    """Build everything once per process (Lambda execution environment or uvicorn worker)."""
    settings = settings or get_settings()
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
    return Container(
        settings=settings,
        clients=clients,
        repository=repository,
        publisher=publisher,
        service=service,
    )
