"""Opaque page cursors: DynamoDB's LastEvaluatedKey, bound to the index and query it came from.

A cursor is base64url JSON: the index, the key to resume after, and the binding of
the query that issued it (its filters and sort, see OrderQuery.binding). On the way
back in it is checked strictly, so a cursor from another query (or a hand-made one)
is a 400, never a 500 or a read elsewhere.
"""

from __future__ import annotations

import base64
import binascii
import json
from typing import Any

from orders.adapters.keys import ORDER_PREFIX
from orders.domain.errors import InvalidCursor

MAX_CURSOR_LENGTH = 2048


def encode(index: str, last_key: dict[str, Any], *, binding: str) -> str:
    flat = {name: value["S"] for name, value in last_key.items()}
    raw = json.dumps({"i": index, "k": flat, "q": binding}, separators=(",", ":"), sort_keys=True)
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode(
    cursor: str,
    *,
    index: str,
    key_names: set[str],
    fixed: dict[str, str],
    binding: str,
    starts: dict[str, str] | None = None,
) -> dict[str, Any]:
    """The ExclusiveStartKey for `index`; InvalidCursor unless it is exactly one we issued.

    `fixed` holds attributes whose value the current query pins (e.g. status), and
    `starts` those whose value it pins the start of (a name prefix): the cursor must
    agree with both, or DynamoDB would refuse the start key as outside the query.
    """
    if len(cursor) > MAX_CURSOR_LENGTH:
        raise InvalidCursor
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        data = json.loads(base64.urlsafe_b64decode(padded.encode("ascii")))
    except (ValueError, binascii.Error, UnicodeError):
        raise InvalidCursor from None
    if not isinstance(data, dict) or data.get("i") != index or data.get("q") != binding:
        raise InvalidCursor
    keys = data.get("k")
    if not isinstance(keys, dict) or set(keys) != key_names:
        raise InvalidCursor
    if not all(isinstance(v, str) and v for v in keys.values()):
        raise InvalidCursor
    if any(keys.get(name) != value for name, value in fixed.items()):
        raise InvalidCursor
    if any(not keys[name].startswith(value) for name, value in (starts or {}).items()):
        raise InvalidCursor
    if not keys["pk"].startswith(ORDER_PREFIX):
        raise InvalidCursor
    return {name: {"S": value} for name, value in keys.items()}
