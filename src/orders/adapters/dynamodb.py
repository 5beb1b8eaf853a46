"""Orders, their outbox events and idempotency records in one DynamoDB table.

Item layout (single table, key pk/sk; the prefixes are spelled in adapters/keys.py):
  order   pk=ORDER#<id>  sk=ORDER                    + entity, status, customer, created_key,
                                                     customer_key, updated_key,
                                                     request_fingerprint (created with a key)
  event   pk=ORDER#<id>  sk=EVENT#<occurred>#<id>    outbox record; the stream publishes INSERTs
GSIs (projection ALL):
  by_created (entity, created_key), by_status (status, created_key),
  by_customer (customer, created_key)        created_key = "<created_at>#<id>"
  by_customer_name (entity, customer_key)    customer_key = "<casefolded customer>\x1f
                                             <newest-first counter>#<id>": a prefix of the
                                             name is a begins_with on the sort key
  by_updated (entity, updated_key)           updated_key = "<updated_at>#<id>"
The order and its event share a partition key, so the stream keeps them in order.
Orders written before customer_key/updated_key existed get them on their next status
change, or at once from backfill_list_keys() (README: "Finding orders").
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
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
    OrderSort,
    OrderStatus,
    StoredEvent,
    customer_fold,
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


# Between the folded name and the rest of customer_key: below every printable character,
# so "acme" sorts before "acme corp" and a prefix never runs into the counter.
NAME_END = "\x1f"
# customer_key counts down from here in microseconds, so an ascending Query of one
# customer's orders reads the newest first (17 digits last until the year 5138).
_NEWEST_FIRST_FROM = 10**17
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def _created_key(order: Order) -> str:
    return f"{order.created_at.isoformat()}#{order.id}"


def customer_key(order: Order) -> str:
    """by_customer_name's sort key: customers A to Z, each one's newest order first."""
    age = (order.created_at - _EPOCH) // timedelta(microseconds=1)
    countdown = _NEWEST_FIRST_FROM - age
    return f"{customer_fold(order.customer)}{NAME_END}{countdown:017d}#{order.id}"


def updated_key(order: Order) -> str:
    return f"{order.updated_at.isoformat()}#{order.id}"


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
        "customer_key": customer_key(order),
        "updated_key": updated_key(order),
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
            # The list keys too: updated_key moves, and an order stored before the keys
            # existed gets both on its first change.
            "UpdateExpression": "SET #status = :status, #version = :version, updated_at = :at, "
            "updated_key = :updated_key, customer_key = :customer_key",
            # The write never creates an item, and never lands on a version it did not read.
            "ConditionExpression": "attribute_exists(pk) AND #version = :expected",
            "ExpressionAttributeNames": {"#status": "status", "#version": "version"},
            "ExpressionAttributeValues": {
                ":status": {"S": order.status.value},
                ":version": {"N": str(order.version)},
                ":at": {"S": order.updated_at.isoformat()},
                ":expected": {"N": str(expected_version)},
                ":updated_key": {"S": updated_key(order)},
                ":customer_key": {"S": customer_key(order)},
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
        """A page by one Query per round on the index that serves the query (never a Scan).

        It asks for one item more than the page, so next_cursor is set exactly when a
        next page exists. With a filter (a status on a customer's index, anything on
        by_updated) a round may discard what it read; after MAX_QUERY_ROUNDS it stops
        and returns what it has with a cursor where it stopped: that next page exists
        as far as the index knows, and may turn out empty.
        """
        plan = _plan(query)
        params = plan.params(self._table)
        if query.cursor:
            params["ExclusiveStartKey"] = cursor.decode(
                query.cursor,
                index=plan.index,
                key_names={"pk", "sk", plan.hash_attr, plan.range_attr},
                fixed={plan.hash_attr: plan.hash_value},
                starts=(
                    {plan.range_attr: plan.range_prefix} if plan.range_prefix is not None else {}
                ),
                binding=query.binding(),
            )
        wanted = query.limit + 1
        found: list[dict[str, Any]] = []
        last_key: dict[str, Any] | None = None
        # Limit counts items read before the filter; asking for no more than is missing
        # keeps LastEvaluatedKey exact.
        for _ in range(MAX_QUERY_ROUNDS):
            params["Limit"] = wanted - len(found)
            with dependency("dynamodb", "Query", index=plan.index):
                response = self._client.query(**params)
            found.extend(response.get("Items", []))
            last_key = response.get("LastEvaluatedKey")
            if last_key is None or len(found) >= wanted:
                break
            params["ExclusiveStartKey"] = last_key
        page = found[: query.limit]
        resume: dict[str, Any] | None = None
        if len(found) > query.limit:
            resume = {name: page[-1][name] for name in plan.key_names}
        elif last_key is not None:
            resume = last_key
        return OrderPage(
            items=[order_from_item(i) for i in page],
            next_cursor=cursor.encode(plan.index, resume, binding=query.binding())
            if resume
            else None,
        )

    def backfill_list_keys(self, *, page_size: int = 100) -> int:
        """Give orders stored before customer_key/updated_key existed those attributes.

        Reads every order through by_created (a Query, not a Scan) and writes the two
        keys on those that lack one, only while the order is still at the version read
        (a concurrent change writes them itself). Safe to run again: returns how many
        it wrote this time.
        """
        paginator = self._client.get_paginator("query")
        pages = paginator.paginate(
            TableName=self._table,
            IndexName="by_created",
            KeyConditionExpression="entity = :entity",
            ExpressionAttributeValues={":entity": {"S": ENTITY}},
            PaginationConfig={"PageSize": page_size},
        )
        written = 0
        with dependency("dynamodb", "Query", index="by_created"):
            items = [i for p in pages for i in p["Items"] if _lacks_list_keys(i)]
        for item in items:
            order = order_from_item(item)
            with dependency("dynamodb", "UpdateItem", order_id=order.id):
                try:
                    self._client.update_item(
                        TableName=self._table,
                        Key={"pk": item["pk"], "sk": item["sk"]},
                        UpdateExpression="SET customer_key = :ck, updated_key = :uk",
                        ConditionExpression="#version = :version",
                        ExpressionAttributeNames={"#version": "version"},
                        ExpressionAttributeValues={
                            ":ck": {"S": customer_key(order)},
                            ":uk": {"S": updated_key(order)},
                            ":version": item["version"],
                        },
                    )
                except ClientError as exc:
                    if not _condition_failed(exc):
                        raise
                    continue
            written += 1
        return written

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


def _lacks_list_keys(item: dict[str, Any]) -> bool:
    return "customer_key" not in item or "updated_key" not in item


@dataclass(frozen=True, slots=True)
class _Plan:
    """The Query that serves a list request: an index, its key condition, the filters."""

    index: str
    hash_attr: str
    hash_value: str
    range_attr: str
    range_prefix: str | None = None
    ascending: bool = False
    filters: dict[str, tuple[str, str]] = field(default_factory=dict)

    @property
    def key_names(self) -> tuple[str, ...]:
        return ("pk", "sk", self.hash_attr, self.range_attr)

    def params(self, table: str) -> dict[str, Any]:
        names = {"#h": self.hash_attr}
        values: dict[str, Any] = {":h": {"S": self.hash_value}}
        condition = "#h = :h"
        if self.range_prefix is not None:
            names["#r"] = self.range_attr
            values[":r"] = {"S": self.range_prefix}
            condition += " AND begins_with(#r, :r)"
        clauses = []
        for n, (attr, (kind, value)) in enumerate(sorted(self.filters.items())):
            names[f"#f{n}"] = attr
            values[f":f{n}"] = {"S": value}
            clauses.append(f"begins_with(#f{n}, :f{n})" if kind == "prefix" else f"#f{n} = :f{n}")
        params: dict[str, Any] = {
            "TableName": table,
            "IndexName": self.index,
            "KeyConditionExpression": condition,
            "ExpressionAttributeNames": names,
            "ExpressionAttributeValues": values,
            "ScanIndexForward": self.ascending,
        }
        if clauses:
            params["FilterExpression"] = " AND ".join(clauses)
        return params


def _plan(query: OrderQuery) -> _Plan:
    """The index that serves the query without a Scan, and what is left to filter.

    Sorted by creation, a customer filter picks that customer's index (or, for a
    prefix, by_customer_name, whose sort key starts with the folded name: customers
    A to Z, each one's newest first). Sorted by update, by_updated is the only index
    in that order, so status and customer become filters on it.
    """
    status = {"status": ("equals", query.status.value)} if query.status else {}
    prefix = customer_fold(query.customer_prefix) if query.customer_prefix is not None else None
    if query.sort is OrderSort.UPDATED:
        filters = dict(status)
        if query.customer is not None:
            filters["customer"] = ("equals", query.customer)
        if prefix is not None:
            filters["customer_key"] = ("prefix", prefix)
        return _Plan("by_updated", "entity", ENTITY, "updated_key", filters=filters)
    if query.customer is not None:
        filters = dict(status)
        if prefix is not None:
            filters["customer_key"] = ("prefix", prefix)
        return _Plan("by_customer", "customer", query.customer, "created_key", filters=filters)
    if prefix is not None:
        return _Plan(
            "by_customer_name",
            "entity",
            ENTITY,
            "customer_key",
            range_prefix=prefix,
            ascending=True,
            filters=status,
        )
    if query.status is not None:
        return _Plan("by_status", "status", query.status.value, "created_key")
    return _Plan("by_created", "entity", ENTITY, "created_key")
