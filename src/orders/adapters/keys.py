"""The table's key prefixes, spelled once; the item layout is in adapters/dynamodb.py.

The templates' stream filter repeats EVENT#: tests/infra/test_templates.py checks the copy.
"""

from __future__ import annotations

ORDER_PREFIX = "ORDER#"
ORDER_SK = "ORDER"
EVENT_PREFIX = "EVENT#"


def order_pk(order_id: str) -> str:
    return f"{ORDER_PREFIX}{order_id}"
