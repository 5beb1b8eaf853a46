"""Request and response bodies. Unknown fields are refused, so typos are 422s, not ignored."""

from collections.abc import Sequence
from dataclasses import fields as dataclass_fields
from datetime import datetime
from typing import Annotated, Any, Self

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StringConstraints,
    model_validator,
)
from pydantic_core import PydanticCustomError

from orders.domain.filenames import (
    FILENAME_DESCRIPTION,
    FILENAME_PATTERN,
    MAX_FILENAME_LENGTH,
    UnsafeFilename,
    filename_problem,
)
from orders.domain.model import Order, OrderStatus, allowed_next


def _integral(value: Any) -> Any:
    """3.0 is the integer 3 in JSON (and to JSON Schema's "integer"); 3.5 and "3" are not."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


# Strict (no strings, no booleans), but a JSON number with no fraction is an integer.
Integer = BeforeValidator(_integral)
# Python's whitespace (str.isspace, what str.strip removes), spelled out so that the pattern
# means the same in every regex dialect a client may check it with (\s does not).
WHITESPACE = r"\t-\r\x1c-\x20\x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000"
# Unanchored, as JSON Schema reads a pattern: somewhere a character that is not whitespace.
NOT_BLANK = f"[^{WHITESPACE}]"


def _trimmed(value: str) -> str:
    text = value.strip()
    if not text:
        raise PydanticCustomError("blank", "Enter at least one character that is not whitespace")
    return text


# The limits hold for the value as sent (so the schema's numbers are exact); the pattern
# (published, and checked by _trimmed) refuses a blank one; whitespace at either end is
# then removed. pydantic's strip_whitespace trims less than str.strip (not \x1c-\x1f).
Text = Annotated[
    str,
    StringConstraints(min_length=1, max_length=100),
    AfterValidator(_trimmed),
    Field(json_schema_extra={"pattern": NOT_BLANK}),
]
# The validator comes last: before the constraints, it would hide them from the schema.
Version = Annotated[int, Field(strict=True, ge=1, le=1_000_000_000), Integer]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


_TRIMMED = "1 to 100 characters, not all whitespace; whitespace at either end is removed"


class OrderCreate(_Strict):
    """The limits a client checks a form with are all in this schema (min/max)."""

    # Optional for a customer's token (its own customer is used; another is a 403);
    # required when an operator or machine client creates on a customer's behalf.
    customer: Text | None = Field(
        default=None, examples=["acme-corp"], description=f"The customer. {_TRIMMED}"
    )
    product: Text = Field(examples=["widget"], description=f"The product. {_TRIMMED}")
    quantity: Annotated[
        int,
        Field(strict=True, gt=0, le=10_000, examples=[3], description="A whole number, 1 to 10000"),
        Integer,
    ]
    note: Annotated[str, StringConstraints(max_length=500)] | None = Field(
        default=None, description="Free text, up to 500 characters, shown as typed"
    )


def _isoformat(value: Any) -> Any:
    """A domain timestamp (datetime) is shown as ISO 8601 with its offset; a string is kept."""
    return value.isoformat() if isinstance(value, datetime) else value


# A string on the wire (the schema says "string", as it always has), made from a datetime.
IsoTimestamp = Annotated[str, BeforeValidator(_isoformat)]
_TIMESTAMPS = ("created_at", "updated_at")


class OrderPublic(BaseModel):
    """An order as the API shows it (and as an idempotent create replays it)."""

    id: str
    customer: str
    product: str
    quantity: int
    note: str | None
    status: OrderStatus
    version: int
    created_at: IsoTimestamp
    updated_at: IsoTimestamp
    allowed_transitions: list[OrderStatus]

    @model_validator(mode="before")
    @classmethod
    def _from_domain(cls, data: Any) -> Any:
        """A domain Order is read field by field as it is (the timestamps by IsoTimestamp);
        where it may go next follows from its status."""
        if isinstance(data, Order):
            # Not dataclasses.asdict: it deep-copies each value, 3x the cost of the whole body.
            shown = {f.name: getattr(data, f.name) for f in dataclass_fields(data)}
            return {**shown, "allowed_transitions": allowed_next(data.status)}
        return data

    @classmethod
    def from_order(cls, order: Order) -> Self:
        return cls.model_validate(order)

    def to_order(self) -> Order:
        """The order this body shows (allowed_transitions follows from its status)."""
        shown = self.model_dump(exclude={"allowed_transitions"})
        for name in _TIMESTAMPS:
            shown[name] = datetime.fromisoformat(shown[name])
        return Order(**shown)


class OrderReplay:
    """ReplayCodec: an idempotent create stores its response body, OrderPublic's JSON."""

    def dump(self, order: Order) -> dict[str, Any]:
        return OrderPublic.from_order(order).model_dump(mode="json")

    def load(self, stored: dict[str, Any]) -> Order:
        return OrderPublic.model_validate(stored).to_order()


class OrderList(BaseModel):
    # Sequence (an array, as list is): the UI's subclass narrows the items to its own type.
    items: Sequence[OrderPublic]
    next_cursor: str | None = Field(
        description="Pass as `cursor` (with the same filters and sort) for the next page; "
        "null on the last page"
    )
    has_more: bool = Field(
        description="Whether a next page exists (next_cursor is set). No total count: "
        "counting would read every matching order"
    )


class StatusUpdate(_Strict):
    status: OrderStatus
    version: Version | None = Field(
        default=None,
        description="Optional: the version you read (a stale one is a 409); or If-Match",
    )


class CancelRequest(_Strict):
    version: Version | None = None


def _kept_filename(name: str) -> str:
    """The domain's filename rules, as a validation error that names the rule."""
    rule = filename_problem(name)
    if rule is not None:
        raise PydanticCustomError(
            f"filename_{rule.value.replace('-', '_')}", str(UnsafeFilename(rule))
        )
    return name


# Checked by the domain's rules (each refusal names its rule); the schema publishes the
# same limits (length and an equivalent pattern) for clients to check the field with.
Filename = Annotated[
    str,
    AfterValidator(_kept_filename),
    Field(
        description=FILENAME_DESCRIPTION,
        examples=["invoice 2026 #17.pdf"],
        json_schema_extra={
            "minLength": 1,
            "maxLength": MAX_FILENAME_LENGTH,
            "pattern": FILENAME_PATTERN,
        },
    ),
]


class AttachmentCreate(_Strict):
    filename: Filename
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
    key: str = Field(description="The object key, made of ids only")
    filename: str = Field(description="The name kept for display and download")
    upload: PresignedPost
    expires_in: int
    max_bytes: int


class AttachmentPublic(BaseModel):
    attachment_id: str
    filename: str = Field(description="The name the user chose, exactly as sent")
    size: int
    last_modified: str
    download_url: str = Field(
        description="Presigned GET; the browser saves the file under `filename` "
        "(Content-Disposition with an RFC 8187 filename*)"
    )
    expires_in: int


class AttachmentList(BaseModel):
    items: Sequence[AttachmentPublic]  # Sequence: as OrderList's


class EventPublic(BaseModel):
    id: str
    detail_type: str
    occurred_at: str
    at: str = Field(
        description="When it happened: ISO 8601 with its UTC offset",
        examples=["2026-11-30T18:21:07.412803+00:00"],
    )
    from_status: OrderStatus | None = Field(
        description="The status before, on a status change; null otherwise"
    )
    to_status: OrderStatus | None = Field(
        description="The status after: on a status change, and the first status on "
        "OrderCreated; null for an event that sets no status"
    )
    actor: str | None = Field(
        description='Who made the change ("user:<sub>" or "client:<client id>"); '
        "null when the request was not authenticated"
    )
    detail: dict[str, object]
    published_at: str | None
    bus_event_id: str | None


class EventList(BaseModel):
    items: Sequence[EventPublic]  # Sequence: as OrderList's


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
