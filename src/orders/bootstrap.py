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
    from orders.adapters.jwks import KeyCache
    from orders.adapters.ratelimit import DynamoRateLimiter
    from orders.adapters.s3 import S3AttachmentStore
    from orders.adapters.secrets import SecretReader
    from orders.ports import (
        AttachmentStore,
        EventPublisher,
        Idempotency,
        KeySource,
        OrderRepository,
    )
    from orders.service import OrderService
    from orders.throttle import RateLimiter, Throttle


@dataclass(frozen=True, slots=True)
class Adapters:
    """One adapter per port; None means the AWS one the settings describe."""

    repository: OrderRepository | None = None
    attachments: AttachmentStore | None = None
    publisher: EventPublisher | None = None
    idempotency: Idempotency | None = None
    # The token issuer's JWKS (orders.api.auth); None means HTTP from the settings' URL.
    key_source: KeySource | None = None
    # The throttle's counters. None: the table's (DynamoRateLimiter) when the repository is
    # the table's too, else in memory (a container on fakes must not reach for AWS).
    rate_limiter: RateLimiter | None = None


@dataclass(frozen=True, slots=True)
class _Wired:
    clients: AwsClients | None
    repository: OrderRepository
    publisher: EventPublisher
    service: OrderService
    # None when ORDERS_RATE_LIMIT_PER_MINUTE is 0 (throttling off).
    throttle: Throttle | None


class Container:
    """Settings, and the clients, adapters and service built from them once per process."""

    __slots__ = ("_adapters", "_key_cache", "_lock", "_session", "_wired", "settings")

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
        self._key_cache: KeyCache | None = None

    def wire(self) -> _Wired:
        """Build clients, adapters and service if not yet built (thread-safe, once)."""
        wired = self._wired
        if wired is None:
            # Sync routes run on Starlette's thread pool: two first requests may race.
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

    def key_cache(self) -> KeyCache:
        """The issuer's signing keys, one cache per process (built on first use, no fetch yet)."""
        with self._lock:
            if self._key_cache is None:
                from orders.adapters.jwks import HttpKeySource, KeyCache

                settings = self.settings
                source = self._adapters.key_source or HttpKeySource(
                    settings.jwks_url, timeout_seconds=settings.auth_jwks_timeout_seconds
                )
                self._key_cache = KeyCache(
                    source, min_refresh_seconds=settings.auth_jwks_min_refresh_seconds
                )
            return self._key_cache

    @property
    def throttle(self) -> Throttle | None:
        return self.wire().throttle

    def secret_reader(self) -> SecretReader:
        """Secrets Manager reads for the origin check (its client is built on first read)."""
        from orders.adapters.secrets import secret_reader

        return secret_reader(self.settings)


def bootstrap(
    settings: Settings | None = None,
    session: boto3.session.Session | None = None,
    *,
    lazy: bool = False,
    adapters: Adapters | None = None,
) -> Container:
    """Build everything once per process (Lambda execution environment or server worker).

    lazy=True defers clients, adapters and service to their first use. Each adapter given
    in `adapters` replaces the AWS one for its port (tests pass in-memory fakes); its
    key_source replaces the HTTP fetch of the issuer's JWKS (tests pass one holding a test
    key). None, or a field left None, is production's.
    """
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
    throttle = _throttle(settings, given, aws)
    return _Wired(
        clients=aws.built_clients,
        repository=repository,
        publisher=publisher,
        service=service,
        throttle=throttle,
    )


def _throttle(settings: Settings, given: Adapters, aws: _AwsAdapters) -> Throttle | None:
    from orders.observability import logger
    from orders.throttle import InMemoryRateLimiter, Throttle

    if settings.rate_limit_per_minute == 0:
        logger.warning("per-caller throttling is off (ORDERS_RATE_LIMIT_PER_MINUTE=0)")
        return None
    limiter = given.rate_limiter
    if limiter is None:
        limiter = aws.rate_limiter() if given.repository is None else InMemoryRateLimiter()
    return Throttle(limiter, limit=settings.rate_limit_per_minute)


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

    def rate_limiter(self) -> DynamoRateLimiter:
        from orders.adapters.ratelimit import DynamoRateLimiter

        return DynamoRateLimiter(
            table_name=self._settings.table_name, client=self._clients.dynamodb
        )

    def idempotency(self) -> PowertoolsIdempotency:
        from orders.adapters.idempotency import PowertoolsIdempotency

        return PowertoolsIdempotency(
            table_name=self._settings.table_name,
            client=self._clients.dynamodb,
            ttl_seconds=self._settings.idempotency_ttl_seconds,
            request_timeout_seconds=self._settings.request_timeout_seconds,
        )
