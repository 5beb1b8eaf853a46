"""moto's DynamoDB made to keep DynamoDB's guarantees when callers run at once.

Why this exists: moto (5.1, 5.2) serves every request on its own thread, and its
DynamoDB backend takes no lock. Its TransactWriteItems deep-copies each table the
transaction names (items and stream included) before it starts and, when any part
fails, puts the copy back in the table's place. Under concurrent requests that
erases other threads' writes, lets several conditional transactions on one item all
"win", leaves stream records of writes that were rolled back, and swaps the table's
stream shard for the copy, so a reader's shard iterator keeps reading an orphan
shard and the outbox stalls for good. Each transaction also costs a copy of the
whole table: CPU and memory grow with the data (GBs under load).

Changes made only in the emulator `make dev` starts (the service is untouched):

- `serialised` runs DynamoDB and DynamoDB Streams requests one at a time, in arrival
  order: a FIFO lock around moto's WSGI app, taken for requests whose X-Amz-Target
  names either API. Each request is then atomic and isolated, as DynamoDB's are;
  other services stay concurrent. First come, first served: under load every caller
  waits its turn instead of some waiting past their read timeout. A request whose
  caller hung up while it waited (its SDK timed out and retried) is dropped, not
  served: working for callers that are gone is how a queue collapses under load.
- `transact_write_items` (installed over moto's method) checks every condition
  before it writes anything, so a cancelled transaction writes nothing and streams
  nothing, then applies the writes and, if one of them fails, restores only the
  items it touched and trims the stream records it added.
- `all_items` and `sorted_items` (over Table's: every query and scan sorts the whole
  table, and an index query sorts its matches again) sort on each item's key values
  computed once, not on moto's DynamoType objects, which compute them again in every
  comparison: the same order at a fraction of the cost. moto's queries still read the
  whole table (see the README's "make dev" limits).

They lean on moto internals (Table.items, StreamShard.items), so `install` refuses a
moto outside the versions this was checked against, with a message saying what to
check, instead of misbehaving quietly.
"""

from __future__ import annotations

import copy
import io
import socket
import threading
from collections import deque
from dataclasses import dataclass, field
from importlib.metadata import version
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable

    WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]

# moto releases whose DynamoDBBackend.transact_write_items, Table.all_items,
# Table.sorted_items, Table.items and StreamShard.items this module was read against
# (5.2.5 when written; pyproject allows any 5.x, so a new minor release stops here).
SUPPORTED_MOTO = ((5, 2),)
# botocore's X-Amz-Target prefixes for DynamoDB and DynamoDB Streams (JSON protocol).
SERIALISED_TARGETS = ("DynamoDB_20120810.", "DynamoDBStreams_20120810.")
TRANSACTION_OPERATIONS = frozenset({"ConditionCheck", "Put", "Delete", "Update"})


class UnsupportedMoto(RuntimeError):
    """The installed moto is not one this module's replacement was written for."""


def moto_release() -> tuple[int, int]:
    major, minor, *_ = version("moto").split(".")
    return int(major), int(minor)


def check_moto() -> None:
    release = moto_release()
    if release not in SUPPORTED_MOTO:
        supported = ", ".join(f"{a}.{b}" for a, b in SUPPORTED_MOTO)
        raise UnsupportedMoto(
            f"moto {version('moto')} is installed; src/devstack/emulator_dynamodb.py replaces "
            "moto's DynamoDBBackend.transact_write_items, Table.all_items and "
            f"Table.sorted_items and was checked against moto {supported}. Compare them with "
            "this moto's (does transact_write_items still deep-copy tables?), then add the "
            "release to SUPPORTED_MOTO, or install moto 5.2: pip install 'moto[server]~=5.2.5'."
        )


def install() -> None:
    """Put this module's TransactWriteItems and sorts in place of moto's (idempotent)."""
    check_moto()
    from moto.dynamodb.models import DynamoDBBackend
    from moto.dynamodb.models.table import Table

    DynamoDBBackend.transact_write_items = transact_write_items  # type: ignore[method-assign]
    Table.sorted_items = sorted_items  # type: ignore[method-assign]
    Table.all_items = all_items  # type: ignore[method-assign]


class FifoLock:
    """A lock handed to its waiters in the order they asked (threading.Lock is not fair)."""

    def __init__(self) -> None:
        self._guard = threading.Lock()
        self._held = False
        self._waiters: deque[threading.Lock] = deque()

    def __enter__(self) -> None:
        with self._guard:
            if not self._held:
                self._held = True
                return
            turn = threading.Lock()
            turn.acquire()
            self._waiters.append(turn)
        turn.acquire()  # released by the holder, who hands the lock over still held

    def __exit__(self, *_: object) -> None:
        with self._guard:
            if self._waiters:
                self._waiters.popleft().release()
            else:
                self._held = False


def serialised(app: WSGIApp, lock: FifoLock | None = None) -> WSGIApp:
    """`app` with DynamoDB and DynamoDB Streams requests run one at a time, in order."""
    guard = lock or FifoLock()

    def wrapped(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        if not environ.get("HTTP_X_AMZ_TARGET", "").startswith(SERIALISED_TARGETS):
            return app(environ, start_response)
        # The body is read before the lock: a slow sender holds up nobody, and what is
        # left on the connection afterwards says whether the caller is still there.
        length = int(environ.get("CONTENT_LENGTH") or 0)
        if length:
            environ["wsgi.input"] = io.BytesIO(environ["wsgi.input"].read(length))
        with guard:
            if length and _caller_gone(environ.get("werkzeug.socket")):
                start_response("503 Service Unavailable", [("Content-Length", "0")])
                return [b""]
            # The response is built inside the lock too, so a lazily built one cannot
            # touch the backend after another request has started.
            response = app(environ, start_response)
            try:
                return [b"".join(response)]
            finally:
                close = getattr(response, "close", None)
                if close is not None:
                    close()

    return wrapped


def _caller_gone(connection: socket.socket | None) -> bool:
    """Whether the client closed the connection (werkzeug passes it as werkzeug.socket)."""
    if connection is None:
        return False
    try:
        peeked = connection.recv(1, socket.MSG_PEEK | socket.MSG_DONTWAIT)
    except BlockingIOError:
        return False  # connected, nothing more sent: the caller is waiting for us
    except OSError:
        return True
    return peeked == b""


def sorted_items(
    self: Any, hash_key_attrs: list[str], range_key_attrs: list[str | None], items: list[Any]
) -> list[Any]:
    """Table.sorted_items with each item's sort key computed once (module docstring).

    Key attributes have one scalar type per index, so comparing their cast values
    orders exactly as comparing the DynamoType objects does.
    """
    names = self._generate_attr_to_sort_by(hash_key_attrs, range_key_attrs)
    items.sort(key=lambda item: tuple(item.attrs[name].cast_value for name in names))
    return items


def all_items(self: Any) -> list[Any]:
    """Table.all_items (every item, in key order) with each sort key computed once."""
    if self.range_key_attr:
        items = [item for partition in self.items.values() for item in partition.values()]
    else:
        items = list(self.items.values())
    return sorted(
        items,
        key=lambda item: (
            (item.hash_key.cast_value, item.range_key.cast_value)
            if item.range_key
            else item.hash_key.cast_value
        ),
    )


@dataclass
class _Undo:
    """What a transaction changed, item by item, so it can be put back."""

    backend: Any
    items: list[tuple[Any, Any, Any, Any]] = field(default_factory=list)
    shards: dict[int, tuple[Any, int]] = field(default_factory=dict)

    def remember(self, table: Any, key: dict[str, Any]) -> None:
        hash_value, range_value = self.backend.get_keys_value(table, key)
        before = table.get_item(hash_value, range_value)
        # One item's copy: update_item changes the stored item in place.
        self.items.append((table, hash_value, range_value, copy.deepcopy(before)))
        shard = table.stream_shard
        if shard is not None and id(shard) not in self.shards:
            self.shards[id(shard)] = (shard, len(shard.items))

    def rollback(self) -> None:
        for table, hash_value, range_value, before in reversed(self.items):
            if range_value is None:
                if before is None:
                    table.items.pop(hash_value, None)
                else:
                    table.items[hash_value] = before
                continue
            partition = table.items[hash_value]
            if before is None:
                partition.pop(range_value, None)
                if not partition:
                    table.items.pop(hash_value, None)
            else:
                partition[range_value] = before
        for shard, length in self.shards.values():
            del shard.items[length:]


def _key(table: Any, op_type: str, op: dict[str, Any]) -> dict[str, Any]:
    if op_type != "Put":
        return dict(op["Key"])
    attrs = op["Item"]
    key = {table.hash_key_attr: attrs[table.hash_key_attr]}
    if table.range_key_attr is not None:
        key[table.range_key_attr] = attrs[table.range_key_attr]
    return key


def _apply(backend: Any, op_type: str, op: dict[str, Any], key: dict[str, Any]) -> None:
    common = {
        "condition_expression": op.get("ConditionExpression"),
        "expression_attribute_names": op.get("ExpressionAttributeNames"),
        "expression_attribute_values": op.get("ExpressionAttributeValues"),
    }
    if op_type == "Put":
        backend.put_item(op["TableName"], op["Item"], **common)
    elif op_type == "Delete":
        backend.delete_item(op["TableName"], key, **common)
    elif op_type == "Update":
        backend.update_item(
            op["TableName"], key, update_expression=op["UpdateExpression"], **common
        )


def transact_write_items(self: Any, transact_items: list[dict[str, Any]]) -> None:
    """DynamoDBBackend.transact_write_items without the whole-table copies (module docstring).

    The same checks and errors as moto's: TooManyTransactions, one operation per entry,
    one operation per item (a ValidationException), and a TransactionCanceledException
    with one reason per entry when a condition fails.
    """
    from moto.dynamodb.exceptions import TooManyTransactionsException

    if len(transact_items) > 100:
        raise TooManyTransactionsException()
    # First every check, writing nothing: a cancelled transaction leaves no trace.
    planned = _check_all(self, transact_items)
    _write_all(self, planned)


_Planned = list[tuple[str, dict[str, Any], dict[str, Any]]]


def _check_all(backend: Any, transact_items: list[dict[str, Any]]) -> _Planned:
    """Each entry's (operation, request, key), or the cancellation with every entry's reason."""
    from moto.dynamodb.exceptions import (
        ConditionalCheckFailed,
        MockValidationException,
        MultipleTransactionsException,
        TransactionCanceledException,
        TransactWriteSingleOpException,
    )

    planned: _Planned = []
    reasons: list[tuple[Any, Any, Any]] = []
    seen: set[tuple[str, str]] = set()
    for entry in transact_items:
        if len(entry) > 1:
            raise TransactWriteSingleOpException
        op_type, op = next(iter(entry.items()))
        old_image = None
        try:
            if op_type not in TRANSACTION_OPERATIONS:
                raise ValueError("Unsupported transaction operation")
            table = backend.get_table(op["TableName"])
            key = _key(table, op_type, op)
            target = (str(op["TableName"]), str(dict(sorted(key.items()))))
            if target in seen:
                raise MultipleTransactionsException()
            seen.add(target)
            current = backend.get_item(op["TableName"], key)
            if _condition_fails(op, current):
                if op.get("ReturnValuesOnConditionCheckFailure") == "ALL_OLD" and current:
                    old_image = current.to_json()["Attributes"]
                raise ConditionalCheckFailed(item=old_image)
            planned.append((op_type, op, key))
            reasons.append((None, None, None))
        except MockValidationException:
            raise
        except ConditionalCheckFailed as exc:
            reasons.append(("ConditionalCheckFailed", str(exc.message), old_image))
        except Exception as exc:
            reasons.append((type(exc).__name__, str(exc), None))
    if any(code is not None for code, _, _ in reasons):
        raise TransactionCanceledException(reasons)
    return planned


def _condition_fails(op: dict[str, Any], current: Any) -> bool:
    from moto.dynamodb.comparisons import get_filter_expression

    condition = op.get("ConditionExpression")
    if condition is None:
        return False
    check = get_filter_expression(
        condition,
        op.get("ExpressionAttributeNames"),
        op.get("ExpressionAttributeValues"),
    )
    return not check.expr(current)


def _write_all(backend: Any, planned: _Planned) -> None:
    """Apply the checked writes, all or none.

    A write that still fails (an update expression moto refuses, an item too large)
    puts back what the earlier ones changed.
    """
    from moto.dynamodb.exceptions import MockValidationException, TransactionCanceledException

    undo = _Undo(backend)
    for index, (op_type, op, key) in enumerate(planned):
        undo.remember(backend.get_table(op["TableName"]), key)
        try:
            _apply(backend, op_type, op, key)
        except MockValidationException:
            undo.rollback()
            raise
        except Exception as exc:
            undo.rollback()
            failed: list[tuple[Any, Any, Any]] = [(None, None, None)] * len(planned)
            failed[index] = (type(exc).__name__, str(exc), None)
            raise TransactionCanceledException(failed) from exc
