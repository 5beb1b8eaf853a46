"""The table's stream as the outbox publisher reads it: the outbox items just inserted.

Knows the item layout (orders.adapters.keys), so publishing does not have to.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from orders.adapters.keys import EVENT_PREFIX
from orders.publishing import OutboxRecord

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.data_classes.dynamo_db_stream_event import (
        DynamoDBRecord,
    )


def outbox_record(record: DynamoDBRecord) -> OutboxRecord | None:
    """The outbox item a stream record inserted, or None for any other change."""
    if record.event_name is None or record.event_name.name != "INSERT" or record.dynamodb is None:
        return None
    image = record.dynamodb.new_image
    if not str(image.get("sk", "")).startswith(EVENT_PREFIX):
        return None
    return OutboxRecord(
        sequence_number=record.dynamodb.sequence_number or "",
        order_id=image["order_id"],
        sort_key=image["sk"],
        event_id=image["event_id"],
        detail_type=image["detail_type"],
        detail=image["detail"],
        occurred_at=datetime.fromisoformat(image["occurred_at"]),
    )
