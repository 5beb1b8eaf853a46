"""The one place that wires settings -> clients -> adapters -> services.

Every adapter is a parameter with the production one as its default (the AWS
adapter built from the settings), so a test builds the same container, and the
same app around it, with in-memory fakes (tests/fakes.py). AWS clients are made
only for the adapters left to their default.

Settings are read and checked when the container is made, so a bad environment
still fails at start. The rest (boto3, three clients, the adapters) can be wired on
first use instead (`lazy=True`, what the Lambda handler asks for): importing boto3
and building its clients is most of a cold start, and a request that needs no AWS
call (health, docs) should not pay it. Either way it happens once per process.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING

from orders.settings import Settings, get_settings

if TYPE_CHECKING:
    import boto3

    from orders.adapters.aws import AwsClients
    from orders.adapters.dynamodb import DynamoOrderRepository
    from orders.adapters.eventbridge import EventBridgePublisher
    from orders.adapters.idempotency import PowertoolsIdempotency
    from orders.adapters.s3 import S3AttachmentStore
    from orders.adapters.secrets import SecretReader
    from orders.ports import AttachmentStore, EventPublisher, Idempotency, OrderRepository
    from orders.service import OrderService


@dataclass(frozen=True, slots=True)
class Adapters:
    """One adapter per port; None means the AWS one the settings describe."""

    repository: OrderRepository | None = None
    attachments: AttachmentStore | None = None
    publisher: EventPublisher | None = None
    idempotency: Idempotency | None = None


@dataclass(frozen=True, slots=True)
class _Wired:
    clients: AwsClients | None
    repository: OrderRepository
    publisher: EventPublisher
    service: OrderService


class Container:
    """Settings, and the clients, adapters and service built from them once per process."""

    __slots__ = ("_adapters", "_lock", "_session", "_wired", "settings")

    def __init__(
        self,
        settings: Settings,
        session: boto3.session.Session | None = None,
        adapters: Adapters | None = None,
    ) -> None:
        self.settings = settings
        self._session = session
        self._adapters = adapters or Adapters()
        self._lock = threading.Lock()
        self._wired: _Wired | None = None

    def wire(self) -> _Wired:
        """Build clients, adapters and service if not yet built (thread-safe, once)."""
        wired = self._wired
        if wired is None:
            # uvicorn serves sync routes from a thread pool: two first requests may race.
            with self._lock:
                if self._wired is None:
                    self._wired = _wire(self.settings, self._session, self._adapters)
                wired = self._wired
        return wired

    def rewire(self) -> None:
        """Drop the clients, adapters and service and build them again. After a SnapStart
        restore: what was built before the snapshot (connections, credentials) must not be
        shared by the environments restored from it. Without a session given, the new clients
        come from a new session (orders.adapters.aws.new_session: only the models are shared)."""
        with self._lock:
            self._wired = None
        self.wire()

    @property
    def clients(self) -> AwsClients:
        clients = self.wire().clients
        if clients is None:
            raise RuntimeError("no AWS clients: every adapter of this container was given")
        return clients

    @property
    def repository(self) -> OrderRepository:
        return self.wire().repository

    @property
    def publisher(self) -> EventPublisher:
        return self.wire().publisher

    @property
    def service(self) -> OrderService:
        return self.wire().service

    def secret_reader(self) -> SecretReader:
        """Secrets Manager reads for the origin check (its client is built on first read)."""
        from orders.adapters.secrets import secret_reader

        return secret_reader(self.settings)


def bootstrap(
    settings: Settings | None = None,
    session: boto3.session.Session | None = None,
    *,
    lazy: bool = False,
    repository: OrderRepository | None = None,
    attachments: AttachmentStore | None = None,
    publisher: EventPublisher | None = None,
    idempotency: Idempotency | None = None,
) -> Container:
    """Build everything once per process (Lambda execution environment or uvicorn worker).

    lazy=True defers clients, adapters and service to their first use. An adapter
    given replaces the AWS one for its port (tests pass in-memory fakes).
    """
    adapters = Adapters(
        repository=repository, attachments=attachments, publisher=publisher, idempotency=idempotency
    )
    container = Container(settings or get_settings(), session, adapters)
    if not lazy:
        container.wire()
    return container


def _wire(settings: Settings, session: boto3.session.Session | None, given: Adapters) -> _Wired:
    from orders.api.models import OrderReplay
    from orders.service import AttachmentPolicy, OrderService

    aws = _AwsAdapters(settings, session)
    repository = given.repository if given.repository is not None else aws.repository()
    publisher = given.publisher if given.publisher is not None else aws.publisher()
    service = OrderService(
        repository=repository,
        attachments=given.attachments if given.attachments is not None else aws.attachments(),
        publisher=publisher,
        idempotency=given.idempotency if given.idempotency is not None else aws.idempotency(),
        replay=OrderReplay(),
        attachment_policy=AttachmentPolicy(
            max_bytes=settings.max_attachment_bytes,
            allowed_content_types=settings.allowed_content_types,
        ),
    )
    return _Wired(
        clients=aws.built_clients, repository=repository, publisher=publisher, service=service
    )


class _AwsAdapters:
    """The production adapters, with the clients they share made on the first one asked for.

    The adapters import boto3 (see the module docstring), so each is imported here only
    when it is built.
    """

    def __init__(self, settings: Settings, session: boto3.session.Session | None) -> None:
        self._settings = settings
        self._session = session
        self.built_clients: AwsClients | None = None

    @cached_property
    def _clients(self) -> AwsClients:
        from orders.adapters import aws

        # Looked up on the module at call time, so a test can count the builds.
        self.built_clients = aws.build_clients(self._settings, self._session)
        return self.built_clients

    def repository(self) -> DynamoOrderRepository:
        from orders.adapters.dynamodb import DynamoOrderRepository

        return DynamoOrderRepository(
            table_name=self._settings.table_name, client=self._clients.dynamodb
        )

    def publisher(self) -> EventBridgePublisher:
        from orders.adapters.eventbridge import EventBridgePublisher

        return EventBridgePublisher(
            bus_name=self._settings.event_bus_name, client=self._clients.events
        )

    def attachments(self) -> S3AttachmentStore:
        from orders.adapters.s3 import S3AttachmentStore

        return S3AttachmentStore(
            bucket=self._settings.bucket_name,
            kms_key_id=self._settings.kms_key_id,
            client=self._clients.s3,
            expiry_seconds=self._settings.presign_expiry_seconds,
        )

    def idempotency(self) -> PowertoolsIdempotency:
        from orders.adapters.idempotency import PowertoolsIdempotency

        return PowertoolsIdempotency(
            table_name=self._settings.table_name,
            client=self._clients.dynamodb,
            ttl_seconds=self._settings.idempotency_ttl_seconds,
            request_timeout_seconds=self._settings.request_timeout_seconds,
        )
