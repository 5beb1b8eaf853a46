"""Conditional requests (RFC 9110): an order's ETag, If-Match and If-None-Match.

HTTP's view of an order's version. The domain knows only VersionConflict; a conflict
with a version the client named in If-Match is a 412 instead (PreconditionFailed).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

from fastapi import HTTPException

if TYPE_CHECKING:
    from orders.domain.model import Order

_ETAG = re.compile(r'^(?:W/)?"?(\d{1,10})"?$')


class PreconditionFailed(Exception):
    """If-Match named a version the order is no longer at (RFC 9110 412)."""

    def __init__(self, order_id: str, expected: int, actual: int | None) -> None:
        now_at = f"is at version {actual}" if actual is not None else "was changed meanwhile"
        super().__init__(
            f'order {order_id} {now_at}; If-Match was "{expected}". Re-read it and retry.'
        )
        self.expected = expected
        self.actual = actual


def etag(order: Order) -> str:
    return f'"{order.version}"'


@dataclass(frozen=True, slots=True)
class Precondition:
    """The version a writer read, and where it said so (If-Match is a 412, the body a 409)."""

    version: int | None
    from_header: bool


def precondition(if_match: str | None, body_version: int | None) -> Precondition:
    """From If-Match or the body's `version`; both must agree. Neither (or If-Match: *) is fine."""
    header_version = None
    if if_match is not None and if_match.strip() != "*":
        match = _ETAG.match(if_match.strip())
        if match is None:
            raise HTTPException(400, 'If-Match must be an ETag this API issued, e.g. "3"')
        header_version = int(match.group(1))
    if header_version is not None and body_version is not None and header_version != body_version:
        raise HTTPException(400, "If-Match and version disagree; send one of them")
    if header_version is not None:
        return Precondition(header_version, from_header=True)
    return Precondition(body_version, from_header=False)


def none_match(if_none_match: str, order: Order) -> bool:
    """RFC 9110 If-None-Match: '*' or a list of ETags, compared weakly."""
    if if_none_match.strip() == "*":
        return True
    held = {tag.strip().removeprefix("W/") for tag in if_none_match.split(",")}
    return etag(order) in held
