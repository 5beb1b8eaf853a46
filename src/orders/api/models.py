"""Request and response bodies. Unknown fields are refused, so typos are 422s, not ignored."""

from datetime import datetime
from typing import Annotated, Any, Self

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, StringConstraints

from orders.domain.model import Order, OrderStatus, allowed_next


def _integral(value: Any) -> Any:
    """3.0 is the integer 3 in JSON (and to JSON Schema's "integer"); 3.5 and "3" are not."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


# Strict (no strings, no booleans), but a JSON number with no fraction is an integer.
Integer = BeforeValidator(_integral)
Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]
# The validator comes last: before the constraints, it would hide them from the schema.
Version = Annotated[int, Field(strict=True, ge=1, le=1_000_000_000), Integer]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class OrderCreate(_Strict):
    # Optional for a customer's token (its own customer is used; another is a 403);
    # required when an operator or machine client creates on a customer's behalf.
    customer: Text | None = Field(default=None, examples=["acme-corp"])
    product: Text = Field(examples=["widget"])
    quantity: Annotated[int, Field(strict=True, gt=0, le=10_000, examples=[3]), Integer]
    note: Annotated[str, StringConstraints(max_length=500)] | None = None


class OrderPublic(BaseModel):
    """An order as the API shows it (and as an idempotent create replays it)."""

    id: str
    customer: str
    product: str
    quantity: int
    note: str | None
    status: OrderStatus
    version: int
    created_at: str
    updated_at: str
    allowed_transitions: list[OrderStatus]

    @classmethod
    def from_order(cls, order: Order) -> Self:
        return cls(
            id=order.id,
            customer=order.customer,
            product=order.product,
            quantity=order.quantity,
            note=order.note,
            status=order.status,
            version=order.version,
            created_at=order.created_at.isoformat(),
            updated_at=order.updated_at.isoformat(),
            allowed_transitions=[OrderStatus(s) for s in allowed_next(order.status)],
        )

    def to_order(self) -> Order:
        """The order this body shows (allowed_transitions follows from its status)."""
        return Order(
            id=self.id,
            customer=self.customer,
            product=self.product,
            quantity=self.quantity,
            status=self.status,
            version=self.version,
            created_at=datetime.fromisoformat(self.created_at),
            updated_at=datetime.fromisoformat(self.updated_at),
            note=self.note,
        )


class OrderReplay:
    """ReplayCodec: an idempotent create stores its response body, OrderPublic's JSON."""

    def dump(self, order: Order) -> dict[str, Any]:
        return OrderPublic.from_order(order).model_dump(mode="json")

    def load(self, stored: dict[str, Any]) -> Order:
        return OrderPublic.model_validate(stored).to_order()


class OrderList(BaseModel):
    items: list[OrderPublic]
    next_cursor: str | None = Field(
        description="Pass as `cursor` for the next page; absent on the last page"
    )


class StatusUpdate(_Strict):
    status: OrderStatus
    version: Version | None = Field(
        default=None,
        description="Optional: the version you read (a stale one is a 409); or If-Match",
    )


class CancelRequest(_Strict):
    version: Version | None = None


class AttachmentCreate(_Strict):
    filename: Annotated[
        str,
        StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$"),
    ] = Field(examples=["invoice.pdf"])
    content_type: Annotated[
        str,
        StringConstraints(pattern=r"^[a-z]+/[a-z0-9.+-]+$", max_length=100),
    ] = Field(examples=["application/pdf"])
    size: Annotated[int, Field(strict=True, gt=0), Integer] | None = Field(
        default=None, description="Expected size in bytes, checked against the limit early"
    )


class PresignedPost(BaseModel):
    url: str
    fields: dict[str, str]


class AttachmentUploadPublic(BaseModel):
    attachment_id: str
    key: str
    upload: PresignedPost
    expires_in: int
    max_bytes: int


class AttachmentPublic(BaseModel):
    attachment_id: str
    filename: str
    size: int
    last_modified: str
    download_url: str
    expires_in: int


class AttachmentList(BaseModel):
    items: list[AttachmentPublic]


class EventPublic(BaseModel):
    id: str
    detail_type: str
    occurred_at: str
    detail: dict[str, object]
    published_at: str | None
    bus_event_id: str | None


class EventList(BaseModel):
    items: list[EventPublic]


class Problem(BaseModel):
    """RFC 9457 problem details."""

    type: str
    title: str
    status: int
    detail: str
    instance: str | None = None
    errors: list[dict[str, str]] | None = None


class Health(BaseModel):
    status: str


class Readiness(BaseModel):
    status: str
    checks: dict[str, str]


class ServiceInfo(BaseModel):
    name: str
    version: str
    links: dict[str, str]
