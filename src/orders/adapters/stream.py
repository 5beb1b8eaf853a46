"""The table's stream as the outbox publisher reads it: the outbox items just inserted.

Knows the item layout (orders.adapters.keys), so publishing does not have to.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from orders.adapters.dynamodb import stored_event
from orders.adapters.keys import EVENT_PREFIX

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.data_classes.dynamo_db_stream_event import (
        DynamoDBRecord,
    )

    from orders.domain.model import StoredEvent


def outbox_event(record: DynamoDBRecord) -> StoredEvent | None:
    """The outbox item a stream record inserted, or None for any other change."""
    if record.event_name is None or record.event_name.name != "INSERT" or record.dynamodb is None:
        return None
    image = record.dynamodb.new_image
    if not str(image.get("sk", "")).startswith(EVENT_PREFIX):
        return None
    return stored_event(image)
