"""Outbox publishing: new outbox records -> EventBridge entries.

The records come from the table's stream (orders.adapters.stream reads them).
Each is sent with its stored detail, at the time the event happened.

Delivery is at least once: an entry the bus refuses is sent again once at once,
and what still fails is reported back so the stream redelivers it. Consumers
de-duplicate on detail.event_id.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import TYPE_CHECKING, Any

from orders.domain.model import now
from orders.observability import MetricName, count, logger, milliseconds
from orders.ports import DependencyUnavailable

if TYPE_CHECKING:
    from orders.domain.model import StoredEvent
    from orders.ports import EventPublisher, OrderRepository


class OutboxPublisher:
    def __init__(
        self, *, publisher: EventPublisher, repository: OrderRepository, source: str
    ) -> None:
        self._publisher = publisher
        self._repo = repository
        self._source = source

    def publish(self, events: list[StoredEvent]) -> set[str]:
        """Send the events to the bus; the ids of those that did not get there."""
        pending = events
        # One immediate resend for entries the bus refused (botocore does not retry
        # partial failures); anything left goes back to the stream's own retries.
        for attempt in (1, 2):
            if not pending:
                break
            pending = self._send(pending, attempt)
        for event in pending:
            logger.error("outbox event not published", extra=_keys(event))
        count(MetricName.OUTBOX_FAILED, len(pending))
        return {e.id for e in pending}

    def _send(self, events: list[StoredEvent], attempt: int) -> list[StoredEvent]:
        entries = [self._entry(e) for e in events]
        try:
            results = self._publisher.publish(entries)
        except DependencyUnavailable as exc:
            logger.warning(
                "outbox publish failed", attempt=attempt, reason=exc.reason, entries=len(events)
            )
            return events
        failed = []
        for event, bus_event_id in zip(events, results, strict=True):
            if bus_event_id is None:
                failed.append(event)
                continue
            self._published(event, bus_event_id)
        if failed:
            logger.warning(
                "bus refused entries", attempt=attempt, failed=len(failed), sent=len(events)
            )
        return failed

    def _published(self, event: StoredEvent, bus_event_id: str) -> None:
        count(MetricName.OUTBOX_PUBLISHED)
        age = now() - datetime.fromisoformat(event.occurred_at)
        milliseconds(MetricName.OUTBOX_AGE, age.total_seconds() * 1000)
        logger.info("outbox event published", extra={**_keys(event), "bus_event_id": bus_event_id})
        try:
            self._repo.mark_published(event, bus_event_id=bus_event_id)
        except DependencyUnavailable:
            # The event is on the bus; only its receipt is missing. Never resend for that.
            logger.warning("could not record publication", event_id=event.id)

    def _entry(self, event: StoredEvent) -> dict[str, Any]:
        return {
            "Source": self._source,
            "DetailType": event.detail_type,
            "Detail": json.dumps(event.detail, separators=(",", ":")),
            "Time": datetime.fromisoformat(event.occurred_at),
            "Resources": [],
        }


def _keys(event: StoredEvent) -> dict[str, str]:
    """What names an outbox event in a log line, published or not: searchable by any of them."""
    return {"order_id": event.order_id, "event_id": event.id, "detail_type": event.detail_type}
