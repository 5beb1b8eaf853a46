"""Publishing to the EventBridge bus."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from orders.adapters.errors import dependency

if TYPE_CHECKING:
    from mypy_boto3_events import EventBridgeClient

MAX_ENTRIES_PER_CALL = 10  # PutEvents' own limit


class EventBridgePublisher:
    def __init__(self, *, bus_name: str, client: EventBridgeClient) -> None:
        self._bus = bus_name
        self._client = client

    def publish(self, entries: list[dict[str, Any]]) -> list[str | None]:
        """Send entries in chunks; per entry the bus's event id, or None where it was refused."""
        results: list[str | None] = []
        for start in range(0, len(entries), MAX_ENTRIES_PER_CALL):
            chunk = [
                {**e, "EventBusName": self._bus}
                for e in entries[start : start + MAX_ENTRIES_PER_CALL]
            ]
            with dependency("events", "PutEvents", entries=len(chunk)):
                response = self._client.put_events(Entries=chunk)  # type: ignore[arg-type]
            results.extend(
                r.get("EventId") if "EventId" in r else None for r in response["Entries"]
            )
        return results

    def ping(self) -> None:
        with dependency("events", "DescribeEventBus"):
            self._client.describe_event_bus(Name=self._bus)
