"""Orders, their outbox events and idempotency records in one DynamoDB table.

Item layout (single table, key pk/sk; the prefixes are spelled in adapters/keys.py):
  order   pk=ORDER#<id>  sk=ORDER                    + entity, status, customer, created_key,
                                                     request_fingerprint (created with a key)
  event   pk=ORDER#<id>  sk=EVENT#<occurred>#<id>    outbox record; the stream publishes INSERTs
GSIs (projection ALL), all sorted by created_key = "<created_at>#<id>":
  by_created (entity), by_status (status), by_customer (customer)
The order and its event share a partition key, so the stream keeps them in order.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import TYPE_CHECKING, Any

from boto3.dynamodb.types import TypeDeserializer, TypeSerializer
from botocore.exceptions import ClientError

from orders.adapters import cursor
from orders.adapters.errors import dependency, error_code
from orders.adapters.keys import EVENT_PREFIX, ORDER_SK, order_pk
from orders.domain.errors import (
    IdempotencyInProgress,
    OrderExists,
    OrderNotFound,
    VersionConflict,
)
from orders.domain.model import (
    Order,
    OrderEvent,
    OrderPage,
    OrderQuery,
    OrderStatus,
    StoredEvent,
    now,
)

if TYPE_CHECKING:
    from collections.abc import Mapping

    from mypy_boto3_dynamodb import DynamoDBClient

ENTITY = "ORDER"
# The create request's fingerprint, kept on an order made with an Idempotency-Key.
FINGERPRINT_ATTR = "request_fingerprint"
# How many Query round trips one page may take when a filter discards items.
MAX_QUERY_ROUNDS = 10

_serializer = TypeSerializer()
_deserializer = TypeDeserializer()


def _created_key(order: Order) -> str:
    return f"{order.created_at.isoformat()}#{order.id}"


def order_item(order: Order) -> dict[str, Any]:
    item: dict[str, Any] = {
        "pk": order_pk(order.id),
        "sk": ORDER_SK,
        "entity": ENTITY,
        "id": order.id,
        "customer": order.customer,
        "product": order.product,
        "quantity": order.quantity,
        "status": order.status.value,
        "version": order.version,
        "created_at": order.created_at.isoformat(),
        "updated_at": order.updated_at.isoformat(),
        "created_key": _created_key(order),
    }
    if order.note is not None:
        item["note"] = order.note
    return {k: _serializer.serialize(v) for k, v in item.items()}


def order_from_item(item: dict[str, Any]) -> Order:
    """Inverse of order_item(): the key and index attributes are left behind."""
    data = {k: _deserializer.deserialize(v) for k, v in item.items()}
    return Order(
        id=data["id"],
        customer=data["customer"],
        product=data["product"],
        # Numbers come back as Decimal.
        quantity=int(data["quantity"]),
        status=OrderStatus(data["status"]),
        version=int(data["version"]),
        created_at=datetime.fromisoformat(data["created_at"]),
        updated_at=datetime.fromisoformat(data["updated_at"]),
        note=data.get("note"),
    )


def event_sort_key(event: OrderEvent) -> str:
    """The outbox item's sort key: after its order's, in the order the events happened."""
    return f"{EVENT_PREFIX}{event.occurred_at.isoformat()}#{event.id}"


def event_item(event: OrderEvent) -> dict[str, Any]:
    item = {
        "pk": order_pk(event.order_id),
        "sk": event_sort_key(event),
        "entity": "EVENT",
        "event_id": event.id,
        "order_id": event.order_id,
        "detail_type": event.detail_type,
        "detail": json.dumps(event.detail, separators=(",", ":")),
        "occurred_at": event.occurred_at.isoformat(),
    }
    return {k: _serializer.serialize(v) for k, v in item.items()}


def stored_event_from_item(item: dict[str, Any]) -> StoredEvent:
    return stored_event({k: _deserializer.deserialize(v) for k, v in item.items()})


def stored_event(data: Mapping[str, Any]) -> StoredEvent:
    """An outbox item's attributes (already plain values, as the stream gives them)."""
    return StoredEvent(
        id=data["event_id"],
        order_id=data["order_id"],
        key=data["sk"],
        detail_type=data["detail_type"],
        occurred_at=data["occurred_at"],
        detail=json.loads(data["detail"]),
        published_at=data.get("published_at"),
        bus_event_id=data.get("bus_event_id"),
    )


class DynamoOrderRepository:
    """OrderRepository on one DynamoDB table (see the module docstring for the layout)."""

    def __init__(self, *, table_name: str, client: DynamoDBClient) -> None:
        self._table = table_name
        self._client = client

    def add(self, order: Order, event: OrderEvent, *, fingerprint: str | None = None) -> None:
        """Create the order and its event once: never over an existing order.

        OrderExists (with the stored order) when the id is taken, which for an id derived
        from an Idempotency-Key means an earlier attempt created it; IdempotencyInProgress
        when another attempt's transaction on it is still running. Neither is a 503.
        """
        item = order_item(order)
        if fingerprint is not None:
            item[FINGERPRINT_ATTR] = {"S": fingerprint}
        try:
            with dependency("dynamodb", "TransactWriteItems", order_id=order.id):
                try:
                    self._client.transact_write_items(
                        TransactItems=[
                            {
                                "Put": {
                                    "TableName": self._table,
                                    "Item": item,
                                    "ConditionExpression": "attribute_not_exists(pk)",
                                }
                            },
                            {"Put": {"TableName": self._table, "Item": event_item(event)}},
                        ],
                        # DynamoDB's own idempotency (10 minutes): when the SDK retries a
                        # call whose reply was lost, the retry returns the first call's
                        # success instead of failing the condition. The order id is derived
                        # from the Idempotency-Key, so one key makes one token.
                        ClientRequestToken=order.id,
                    )
                except ClientError as exc:
                    if (outcome := _create_outcome(exc)) is not None:
                        raise outcome from exc
                    raise
        except _Exists:
            stored = self._item(order.id)
            if stored is None:
                # The token names an attempt that left no order: let the caller retry.
                raise IdempotencyInProgress from None
            fingerprint_value = stored.get(FINGERPRINT_ATTR, {}).get("S")
            raise OrderExists(order_from_item(stored), fingerprint_value) from None
        except _Busy:
            raise IdempotencyInProgress from None

    def _item(self, order_id: str) -> dict[str, Any] | None:
        with dependency("dynamodb", "GetItem", order_id=order_id):
            response = self._client.get_item(
                TableName=self._table,
                Key={"pk": {"S": order_pk(order_id)}, "sk": {"S": ORDER_SK}},
                ConsistentRead=True,
            )
        return response.get("Item")

    def get(self, order_id: str) -> Order:
        item = self._item(order_id)
        if item is None:
            raise OrderNotFound(order_id)
        return order_from_item(item)

    def save_transition(self, order: Order, *, expected_version: int, event: OrderEvent) -> None:
        update = {
            "TableName": self._table,
            "Key": {"pk": {"S": order_pk(order.id)}, "sk": {"S": ORDER_SK}},
            "UpdateExpression": "SET #status = :status, #version = :version, updated_at = :at",
            # The write never creates an item, and never lands on a version it did not read.
            "ConditionExpression": "attribute_exists(pk) AND #version = :expected",
            "ExpressionAttributeNames": {"#status": "status", "#version": "version"},
            "ExpressionAttributeValues": {
                ":status": {"S": order.status.value},
                ":version": {"N": str(order.version)},
                ":at": {"S": order.updated_at.isoformat()},
                ":expected": {"N": str(expected_version)},
            },
        }
        try:
            with dependency("dynamodb", "TransactWriteItems", order_id=order.id):
                try:
                    self._client.transact_write_items(
                        TransactItems=[
                            {"Update": update},  # type: ignore[typeddict-item]
                            {"Put": {"TableName": self._table, "Item": event_item(event)}},
                        ]
                    )
                except ClientError as exc:
                    if _condition_failed(exc):
                        raise _Stale from exc
                    raise
        except _Stale:
            raise VersionConflict(order.id, expected_version, None) from None

    def list_orders(self, query: OrderQuery) -> OrderPage:
        index, key_attr, key_value = _index_for(query)
        params: dict[str, Any] = {
            "TableName": self._table,
            "IndexName": index,
            "KeyConditionExpression": "#k = :k",
            "ExpressionAttributeNames": {"#k": key_attr},
            "ExpressionAttributeValues": {":k": {"S": key_value}},
            "ScanIndexForward": False,
        }
        if query.status is not None and key_attr != "status":
            params["FilterExpression"] = "#status = :status"
            params["ExpressionAttributeNames"]["#status"] = "status"
            params["ExpressionAttributeValues"][":status"] = {"S": query.status.value}
        if query.cursor:
            params["ExclusiveStartKey"] = cursor.decode(
                query.cursor,
                index=index,
                key_names={"pk", "sk", key_attr, "created_key"},
                fixed={key_attr: key_value},
            )
        items: list[Order] = []
        last_key: dict[str, Any] | None = None
        # Limit counts items read before the filter, so a filtered page may take a few
        # rounds; asking for no more than is missing keeps LastEvaluatedKey exact.
        for _ in range(MAX_QUERY_ROUNDS):
            params["Limit"] = query.limit - len(items)
            with dependency("dynamodb", "Query", index=index):
                response = self._client.query(**params)
            items.extend(order_from_item(i) for i in response.get("Items", []))
            last_key = response.get("LastEvaluatedKey")
            if last_key is None or len(items) >= query.limit:
                break
            params["ExclusiveStartKey"] = last_key
        return OrderPage(
            items=items, next_cursor=cursor.encode(index, last_key) if last_key else None
        )

    def events(self, order_id: str) -> list[StoredEvent]:
        paginator = self._client.get_paginator("query")
        pages = paginator.paginate(
            TableName=self._table,
            KeyConditionExpression="pk = :pk AND begins_with(sk, :prefix)",
            ExpressionAttributeValues={
                ":pk": {"S": order_pk(order_id)},
                ":prefix": {"S": EVENT_PREFIX},
            },
            ConsistentRead=True,
        )
        with dependency("dynamodb", "Query", order_id=order_id):
            return [stored_event_from_item(item) for page in pages for item in page["Items"]]

    def mark_published(self, event: StoredEvent, *, bus_event_id: str) -> None:
        with dependency("dynamodb", "UpdateItem", order_id=event.order_id):
            try:
                self._client.update_item(
                    TableName=self._table,
                    Key={"pk": {"S": order_pk(event.order_id)}, "sk": {"S": event.key}},
                    UpdateExpression="SET published_at = :at, bus_event_id = :bus",
                    ConditionExpression="attribute_exists(pk)",
                    ExpressionAttributeValues={
                        ":at": {"S": now().isoformat()},
                        ":bus": {"S": bus_event_id},
                    },
                )
            except ClientError as exc:
                if not _condition_failed(exc):
                    raise

    def ping(self) -> None:
        with dependency("dynamodb", "DescribeTable"):
            self._client.describe_table(TableName=self._table)


class _Stale(Exception):
    """The conditional write lost: another writer changed the order first."""


class _Exists(Exception):
    """The create found its order id taken (or its token used by an earlier attempt)."""


class _Busy(Exception):
    """Another transaction on the same order (an attempt with the same key) is running."""


def _create_outcome(exc: ClientError) -> Exception | None:
    """What a failed create means, when it is not a dependency failure."""
    code = error_code(exc)
    if code == "IdempotentParameterMismatchException":
        # The same token with other values: an earlier attempt (other timestamps) wrote it.
        return _Exists()
    if code == "TransactionInProgressException":
        return _Busy()
    if _condition_failed(exc):
        return _Exists()
    if code == "TransactionCanceledException":
        reasons = exc.response.get("CancellationReasons", [])
        if any(r.get("Code") == "TransactionConflict" for r in reasons) or (
            not reasons and "TransactionConflict" in str(exc)
        ):
            return _Busy()
    return None


def _condition_failed(exc: ClientError) -> bool:
    code = error_code(exc)
    if code == "ConditionalCheckFailedException":
        return True
    if code == "TransactionCanceledException":
        reasons = exc.response.get("CancellationReasons", [])
        return any(r.get("Code") == "ConditionalCheckFailed" for r in reasons) or (
            not reasons and "ConditionalCheckFailed" in str(exc)
        )
    return False


def _index_for(query: OrderQuery) -> tuple[str, str, str]:
    """The index that serves the query without a Scan: (index, hash key attr, value)."""
    if query.customer is not None:
        return "by_customer", "customer", query.customer
    if query.status is not None:
        return "by_status", "status", query.status.value
    return "by_created", "entity", ENTITY
