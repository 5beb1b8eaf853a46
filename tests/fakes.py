"""In-memory fakes of the ports (src/orders/ports.py), one per port, for the service tier.

Each keeps the contract its AWS adapter keeps (the conditions DynamoDB enforces, the
bus's per-entry refusals, Powertools' replay and conflict rules), so a rule tested on
a fake holds on AWS; the moto tiers check the adapters keep the same contract.
Failures are chosen by the test: `outages.fail("get")` makes a call raise
DependencyUnavailable, `publisher.refuse(event_id)` makes the bus refuse one entry.
"""

from __future__ import annotations

import copy
import json
from collections import deque
from dataclasses import dataclass, field, fields
from typing import TYPE_CHECKING, Any

from orders.adapters.dynamodb import customer_key, event_sort_key, updated_key
from orders.bootstrap import Adapters, Container, bootstrap
from orders.domain.errors import (
    IdempotencyConflict,
    IdempotencyInProgress,
    InvalidCursor,
    OrderExists,
    OrderNotFound,
    VersionConflict,
)
from orders.domain.model import (
    Attachment,
    AttachmentUpload,
    OrderPage,
    OrderSort,
    StoredEvent,
    customer_fold,
    new_id,
    now,
)
from orders.ports import DependencyUnavailable
from orders.settings import Settings
from tests import tokens

if TYPE_CHECKING:
    from collections.abc import Callable

    from orders.domain.model import Order, OrderEvent, OrderQuery
    from orders.throttle import RateLimiter


REGION = "us-east-1"
CURSOR_PREFIX = "fake-cursor:"


def fake_settings(**overrides: Any) -> Settings:
    """Settings for a container on fakes: names only, nothing is reached with them."""
    values: dict[str, Any] = {
        "table_name": "orders-fake",
        "bucket_name": "orders-fake",
        "event_bus_name": "orders-fake",
        "kms_key_id": "alias/orders-fake",
        "AWS_REGION": REGION,
        "tracing_enabled": False,
        "metrics_flush_seconds": 0,
        "auth_issuer": tokens.ISSUER,
        "auth_client_ids": frozenset(tokens.CLIENT_IDS.split(",")),
        "auth_disabled": False,
    }
    return Settings(**{**values, **overrides})


class Outages:
    """Operations of one dependency made to fail, always or the next `times` calls."""

    def __init__(self, dependency: str) -> None:
        self._dependency = dependency
        self._left: dict[str, int | None] = {}

    def fail(self, operation: str, times: int | None = None) -> None:
        self._left[operation] = times

    def check(self, operation: str) -> None:
        if operation not in self._left:
            return
        left = self._left[operation]
        if left is not None:
            if left <= 1:
                del self._left[operation]
            else:
                self._left[operation] = left - 1
        raise DependencyUnavailable(self._dependency, operation, "fake outage")


@dataclass
class OutboxItem:
    """An event stored beside its order, and the bus's receipt once published."""

    event: OrderEvent
    key: str
    sequence_number: str
    published_at: str | None = None
    bus_event_id: str | None = None

    def stored(self) -> StoredEvent:
        return StoredEvent(
            id=self.event.id,
            order_id=self.event.order_id,
            key=self.key,
            detail_type=self.event.detail_type,
            occurred_at=self.event.occurred_at.isoformat(),
            detail=copy.deepcopy(self.event.detail),
            published_at=self.published_at,
            bus_event_id=self.bus_event_id,
        )


class FakeOrderRepository:
    """OrderRepository in dicts, with DynamoDB's conditions.

    add: only if the id is free (else OrderExists with the stored order and fingerprint).
    save_transition: only if the order exists and is still at expected_version (else
    VersionConflict, with no version known, as DynamoDB's failed condition says none).
    Order and event are stored together or not at all.
    """

    def __init__(self) -> None:
        self.orders: dict[str, Order] = {}
        self.fingerprints: dict[str, str | None] = {}
        self.outbox: list[OutboxItem] = []
        self.outages = Outages("dynamodb")
        # Order ids whose create another attempt's transaction is still writing.
        self.in_progress: set[str] = set()
        self._interleaved: deque[Callable[[], object]] = deque()
        self.save_attempts = 0

    def interleave(self, writer: Callable[[], object]) -> None:
        """Run `writer` inside the next save_transition, after the service read: a race."""
        self._interleaved.append(writer)

    def add(self, order: Order, event: OrderEvent, *, fingerprint: str | None = None) -> None:
        self.outages.check("add")
        if order.id in self.in_progress:
            raise IdempotencyInProgress
        if order.id in self.orders:
            raise OrderExists(self.orders[order.id], self.fingerprints[order.id])
        self.orders[order.id] = order
        self.fingerprints[order.id] = fingerprint
        self._append(event)

    def get(self, order_id: str) -> Order:
        self.outages.check("get")
        if order_id not in self.orders:
            raise OrderNotFound(order_id)
        return self.orders[order_id]

    def save_transition(self, order: Order, *, expected_version: int, event: OrderEvent) -> None:
        self.outages.check("save_transition")
        self.save_attempts += 1
        if self._interleaved:
            self._interleaved.popleft()()
        stored = self.orders.get(order.id)
        if stored is None or stored.version != expected_version:
            raise VersionConflict(order.id, expected_version, None)
        self.orders[order.id] = order
        self._append(event)

    def list_orders(self, query: OrderQuery) -> OrderPage:
        """The adapter's order (its index keys) and filters; a cursor names the last id."""
        self.outages.check("list_orders")
        prefix = customer_fold(query.customer_prefix) if query.customer_prefix else None
        matching = [
            o
            for o in self.orders.values()
            if (query.status is None or o.status == query.status)
            and (query.customer is None or o.customer == query.customer)
            and (prefix is None or customer_fold(o.customer).startswith(prefix))
        ]
        if query.sort is OrderSort.UPDATED:
            matching.sort(key=updated_key, reverse=True)
        elif prefix is not None and query.customer is None:
            matching.sort(key=customer_key)
        else:
            matching.sort(key=_created_key, reverse=True)
        if query.cursor is not None:
            binding, _, after = query.cursor.removeprefix(CURSOR_PREFIX).partition(":")
            ids = [o.id for o in matching]
            if (
                not query.cursor.startswith(CURSOR_PREFIX)
                or binding != query.binding()
                or after not in ids
            ):
                raise InvalidCursor
            matching = matching[ids.index(after) + 1 :]
        items = matching[: query.limit]
        more = len(matching) > query.limit
        return OrderPage(
            items=items,
            next_cursor=f"{CURSOR_PREFIX}{query.binding()}:{items[-1].id}" if more else None,
        )

    def events(self, order_id: str) -> list[StoredEvent]:
        self.outages.check("events")
        mine = [item for item in self.outbox if item.event.order_id == order_id]
        return [item.stored() for item in sorted(mine, key=lambda i: i.key)]

    def mark_published(self, event: StoredEvent, *, bus_event_id: str) -> None:
        self.outages.check("mark_published")
        for item in self.outbox:
            if item.event.order_id == event.order_id and item.key == event.key:
                item.published_at = now().isoformat()
                item.bus_event_id = bus_event_id

    def ping(self) -> None:
        self.outages.check("ping")

    def unpublished(self) -> list[StoredEvent]:
        """What the table's stream hands the publisher: every event not yet on the bus."""
        return [item.stored() for item in self.outbox if item.published_at is None]

    def _append(self, event: OrderEvent) -> None:
        # The table's sort key, so records the stream adapter makes address these items.
        self.outbox.append(
            OutboxItem(
                event=event,
                key=event_sort_key(event),
                sequence_number=str(len(self.outbox) + 1),
            )
        )


def _created_key(order: Order) -> str:
    return f"{order.created_at.isoformat()}#{order.id}"


class FakeAttachmentStore:
    """AttachmentStore in a dict: presigning records the upload; `upload` completes it."""

    def __init__(self, expiry_seconds: int = 900) -> None:
        self.expiry_seconds = expiry_seconds
        self.presigned: list[AttachmentUpload] = []
        self.files: dict[str, list[Attachment]] = {}
        self.outages = Outages("s3")

    def presign_upload(
        self, *, order_id: str, filename: str, content_type: str, max_bytes: int
    ) -> AttachmentUpload:
        self.outages.check("presign_upload")
        attachment_id = new_id()
        upload = AttachmentUpload(
            attachment_id=attachment_id,
            key=f"orders/{order_id}/{attachment_id}",
            filename=filename,
            url="memory://attachments",
            fields={"Content-Type": content_type},
            expires_in=self.expiry_seconds,
            max_bytes=max_bytes,
        )
        self.presigned.append(upload)
        return upload

    def upload(self, order_id: str, upload: AttachmentUpload, size: int) -> None:
        """The client's POST of the file to the presigned URL, as if it succeeded."""
        filename = upload.filename
        self.files.setdefault(order_id, []).append(
            Attachment(
                attachment_id=upload.attachment_id,
                filename=filename,
                size=size,
                last_modified=now().isoformat(),
                download_url=f"memory://attachments/{upload.key}",
                expires_in=self.expiry_seconds,
            )
        )

    def list_attachments(self, order_id: str) -> list[Attachment]:
        self.outages.check("list_attachments")
        return list(self.files.get(order_id, []))

    def ping(self) -> None:
        self.outages.check("ping")


class FakeEventPublisher:
    """EventPublisher that keeps what it accepts and refuses the entries it is told to."""

    def __init__(self) -> None:
        self.calls: list[list[dict[str, Any]]] = []
        self.accepted: list[dict[str, Any]] = []
        self.outages = Outages("events")
        self._refusals: dict[str, int] = {}

    def refuse(self, event_id: str, times: int = 1) -> None:
        """Refuse the entry carrying this event the next `times` times it is sent."""
        self._refusals[event_id] = times

    def publish(self, entries: list[dict[str, Any]]) -> list[str | None]:
        self.outages.check("publish")
        self.calls.append(list(entries))
        results: list[str | None] = []
        for entry in entries:
            event_id = json.loads(entry["Detail"])["event_id"]
            if self._refusals.get(event_id, 0) > 0:
                self._refusals[event_id] -= 1
                results.append(None)
                continue
            self.accepted.append(entry)
            results.append(f"bus-{new_id()}")
        return results

    def ping(self) -> None:
        self.outages.check("ping")


@dataclass
class _Record:
    payload: dict[str, Any]
    result: dict[str, Any] | None  # None while the first attempt runs


class FakeIdempotency:
    """Idempotency as Powertools keeps it: one record per key, replayed while it lasts.

    The same key with another payload is IdempotencyConflict; while the first attempt
    runs, IdempotencyInProgress; an operation that raises leaves no record.
    """

    def __init__(self) -> None:
        self.records: dict[str, _Record] = {}
        self.runs = 0

    def claim(self, key: str, payload: dict[str, Any]) -> None:
        """Another request with this key has started and not finished."""
        self.records[key] = _Record(payload=copy.deepcopy(payload), result=None)

    def run(
        self, *, key: str, payload: dict[str, Any], operation: Callable[[], dict[str, Any]]
    ) -> tuple[dict[str, Any], bool]:
        record = self.records.get(key)
        if record is not None:
            if record.payload != payload:
                raise IdempotencyConflict
            if record.result is None:
                raise IdempotencyInProgress
            return copy.deepcopy(record.result), True
        self.claim(key, payload)
        try:
            result = operation()
        except Exception:
            del self.records[key]
            raise
        self.runs += 1
        self.records[key] = _Record(payload=copy.deepcopy(payload), result=copy.deepcopy(result))
        return result, False


@dataclass
class Fakes:
    """One fake per port, and the container (or app) the production wiring makes of them."""

    repository: FakeOrderRepository = field(default_factory=FakeOrderRepository)
    attachments: FakeAttachmentStore = field(default_factory=FakeAttachmentStore)
    publisher: FakeEventPublisher = field(default_factory=FakeEventPublisher)
    idempotency: FakeIdempotency = field(default_factory=FakeIdempotency)
    key_source: tokens.StaticKeySource = field(default_factory=tokens.StaticKeySource)

    def container(
        self, settings: Settings | None = None, *, rate_limiter: RateLimiter | None = None
    ) -> Container:
        """rate_limiter: the throttle's counters; None keeps the wiring's (in memory on fakes)."""
        # The fields are named as Adapters' ports: a new port's fake needs its field alone.
        fakes = {f.name: getattr(self, f.name) for f in fields(self)}
        adapters = Adapters(**fakes, rate_limiter=rate_limiter)
        return bootstrap(settings or fake_settings(), adapters=adapters)
