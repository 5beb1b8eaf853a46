"""Outbox publishing: new outbox records -> EventBridge entries.

The records come from the table's stream (orders.adapters.stream reads them).

Delivery is at least once: an entry the bus refuses is sent again once at once,
and what still fails is reported back so the stream redelivers it. Consumers
de-duplicate on detail.event_id.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from orders.domain.model import now
from orders.observability import MetricName, count, logger, milliseconds
from orders.ports import DependencyUnavailable

if TYPE_CHECKING:
    from datetime import datetime

    from orders.ports import EventPublisher, OrderRepository


@dataclass(frozen=True, slots=True)
class OutboxRecord:
    """A new outbox item, and where it came from (its stream position, its sort key)."""

    sequence_number: str
    order_id: str
    sort_key: str
    event_id: str
    detail_type: str
    detail: str
    occurred_at: datetime


class OutboxPublisher:
    def __init__(
        self, *, publisher: EventPublisher, repository: OrderRepository, source: str
    ) -> None:
        self._publisher = publisher
        self._repo = repository
        self._source = source

    def publish(self, records: list[OutboxRecord]) -> set[str]:
        """Send the records to the bus; the sequence numbers of those that did not get there."""
        pending = records
        # One immediate resend for entries the bus refused (botocore does not retry
        # partial failures); anything left goes back to the stream's own retries.
        for attempt in (1, 2):
            if not pending:
                break
            pending = self._send(pending, attempt)
        for record in pending:
            logger.error(
                "outbox event not published",
                order_id=record.order_id,
                event_id=record.event_id,
                detail_type=record.detail_type,
            )
        count(MetricName.OUTBOX_FAILED, len(pending))
        return {r.sequence_number for r in pending}

    def _send(self, records: list[OutboxRecord], attempt: int) -> list[OutboxRecord]:
        entries = [self._entry(r) for r in records]
        try:
            results = self._publisher.publish(entries)
        except DependencyUnavailable as exc:
            logger.warning(
                "outbox publish failed", attempt=attempt, reason=exc.reason, entries=len(records)
            )
            return records
        failed = []
        for record, bus_event_id in zip(records, results, strict=True):
            if bus_event_id is None:
                failed.append(record)
                continue
            self._published(record, bus_event_id)
        if failed:
            logger.warning(
                "bus refused entries", attempt=attempt, failed=len(failed), sent=len(records)
            )
        return failed

    def _published(self, record: OutboxRecord, bus_event_id: str) -> None:
        count(MetricName.OUTBOX_PUBLISHED)
        milliseconds(MetricName.OUTBOX_AGE, (now() - record.occurred_at).total_seconds() * 1000)
        logger.info(
            "outbox event published",
            order_id=record.order_id,
            event_id=record.event_id,
            detail_type=record.detail_type,
            bus_event_id=bus_event_id,
        )
        try:
            self._repo.mark_published(
                order_id=record.order_id, sort_key=record.sort_key, bus_event_id=bus_event_id
            )
        except DependencyUnavailable:
            # The event is on the bus; only its receipt is missing. Never resend for that.
            logger.warning("could not record publication", event_id=record.event_id)

    def _entry(self, record: OutboxRecord) -> dict[str, Any]:
        return {
            "Source": self._source,
            "DetailType": record.detail_type,
            "Detail": record.detail,
            "Time": record.occurred_at,
            "Resources": [],
        }
