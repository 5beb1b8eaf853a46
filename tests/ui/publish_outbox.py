"""Publish one order's outbox events, once: `python -m tests.ui.publish_outbox <order id>`.

Run with the service's environment. It reads the table's stream from the start and hands
the order's records to the real `orders.outbox.handler`, shaped as Lambda delivers them
(tests.support.stream_event, the shape devstack's outbox loop gives them), so the UI test
sees events turn from pending to published without the dev stack's loop.
"""

from __future__ import annotations

import sys

from orders.outbox import handler
from tests.support import stream_event


def main(order_id: str) -> int:
    event, _ = stream_event()
    records = [
        record
        for record in event["Records"]
        if record["dynamodb"].get("NewImage", {}).get("order_id", {}).get("S") == order_id
    ]
    result = handler({"Records": records}, None)
    failures = result.get("batchItemFailures", [])
    print(f"{len(records)} records, {len(failures)} failed")
    return 1 if failures or not records else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
