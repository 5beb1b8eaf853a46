"""The detail of the events the service publishes: the bus's contract, version 1.0.

Separate from the API's response body so that either can change without the other.
A change a consumer could notice (a field removed, renamed or retyped) is a new
version beside this one; events/README.md lists the versions and their fields.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

SCHEMA_VERSION_1: Literal["1.0"] = "1.0"


class _Frozen(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class OrderSnapshotV1(_Frozen):
    """The order as it was when the event happened."""

    id: str
    customer: str
    product: str
    quantity: int
    note: str | None
    status: str
    version: int
    created_at: str
    updated_at: str
    allowed_transitions: list[str]


class OrderEventDetailV1(_Frozen):
    """OrderCreated and OrderStatusChanged; previous_status only on a status change.

    `actor` (added in 1.0 as an optional field, so not a new version) is who made the
    change: "user:<sub>" or "client:<client id>" once requests are authenticated.
    Like previous_status it is left out, not null, when there is none, so an event
    without one is byte for byte what it was before the field existed.
    """

    schema_version: Literal["1.0"] = SCHEMA_VERSION_1
    event_id: str
    occurred_at: str
    order: OrderSnapshotV1
    previous_status: str | None = None
    actor: str | None = None

    def detail(self) -> dict[str, Any]:
        """The EventBridge detail: the optional fields left out, not null, when unset."""
        return self.model_dump(exclude={name for name in OPTIONAL if getattr(self, name) is None})


# Fields a detail may lack: a consumer of version 1.0 reads them as None when absent.
OPTIONAL = ("previous_status", "actor")
