"""Lambda entry point for the DynamoDB stream: publish outbox records to EventBridge.

Locally the same handler is fed by a loop over the emulator's stream.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from aws_lambda_powertools.utilities.batch import (
    BatchProcessor,
    EventType,
    process_partial_response,
)
from aws_lambda_powertools.utilities.data_classes.dynamo_db_stream_event import DynamoDBRecord

from orders.adapters.stream import outbox_event
from orders.bootstrap import bootstrap
from orders.observability import flush_metrics, logger
from orders.publishing import OutboxPublisher

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
    from aws_lambda_powertools.utilities.typing import LambdaContext

    from orders.bootstrap import Container


class NotPublished(Exception):
    """The bus did not take this record; the stream will deliver it again."""


_publisher: OutboxPublisher | None = None


def outbox_publisher(container: Container) -> OutboxPublisher:
    """The outbox publisher over a container's bus and repository."""
    return OutboxPublisher(
        publisher=container.publisher,
        repository=container.repository,
        source=container.settings.event_source,
    )


def _outbox_publisher() -> OutboxPublisher:
    global _publisher
    if _publisher is None:
        _publisher = outbox_publisher(bootstrap())
    return _publisher


def handler(event: dict[str, Any], context: LambdaContext | None) -> PartialItemFailureResponse:
    """Publish a stream batch; report the records that failed as batchItemFailures."""
    return publish_batch(event, _outbox_publisher(), context)


def publish_batch(
    event: dict[str, Any], publisher: OutboxPublisher, context: LambdaContext | None = None
) -> PartialItemFailureResponse:
    """What the handler does with one stream batch, given the publisher to do it with."""
    records = [DynamoDBRecord(r) for r in event.get("Records", [])]
    # Stream position -> the outbox event it inserted (other changes are not published).
    outbox = {
        r.dynamodb.sequence_number: e
        for r in records
        if r.dynamodb is not None and (e := outbox_event(r)) is not None
    }
    failed_ids = publisher.publish(list(outbox.values())) if outbox else set()
    failed = {position for position, e in outbox.items() if e.id in failed_ids}

    def check(record: DynamoDBRecord) -> None:
        if record.dynamodb and record.dynamodb.sequence_number in failed:
            raise NotPublished(record.dynamodb.sequence_number)

    # A whole failed batch is reported like a partial one, so the stream retries it
    # the same way (and the local loop needs no second code path).
    processor = BatchProcessor(
        event_type=EventType.DynamoDBStreams, raise_on_entire_batch_failure=False
    )
    try:
        return process_partial_response(
            event=event,
            record_handler=check,
            processor=processor,
            context=context,
        )
    finally:
        logger.info("outbox batch", records=len(records), outbox=len(outbox), failed=len(failed))
        flush_metrics()


def reset() -> None:
    global _publisher
    _publisher = None
