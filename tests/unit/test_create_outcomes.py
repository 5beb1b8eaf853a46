"""What a failed create transaction means: the order exists, another attempt is running,
or DynamoDB failed. Only the last is a 503; moto cannot produce the first two's rarer codes."""

from __future__ import annotations

from typing import Any

import pytest
from botocore.exceptions import ClientError

from orders.adapters.dynamodb import _Busy, _create_outcome, _Exists
from orders.domain.model import order_id_for, request_fingerprint


def client_error(code: str, reasons: list[dict[str, Any]] | None = None) -> ClientError:
    response: dict[str, Any] = {"Error": {"Code": code, "Message": code}}
    if reasons is not None:
        response["CancellationReasons"] = reasons
    return ClientError(response, "TransactWriteItems")  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("code", "reasons", "outcome"),
    [
        (
            "TransactionCanceledException",
            [{"Code": "ConditionalCheckFailed"}, {"Code": "None"}],
            _Exists,
        ),
        ("IdempotentParameterMismatchException", None, _Exists),
        (
            "TransactionCanceledException",
            [{"Code": "TransactionConflict"}, {"Code": "None"}],
            _Busy,
        ),
        ("TransactionInProgressException", None, _Busy),
        ("ProvisionedThroughputExceededException", None, None),
        ("TransactionCanceledException", [{"Code": "ThrottlingError"}, {"Code": "None"}], None),
        ("InternalServerError", None, None),
    ],
)
def test_create_failures_are_told_apart(
    code: str, reasons: list[dict[str, Any]] | None, outcome: type[Exception] | None
) -> None:
    result = _create_outcome(client_error(code, reasons))
    if outcome is None:
        assert result is None  # a dependency failure: the caller reports a 503
    else:
        assert isinstance(result, outcome)


def test_the_order_id_is_the_key_scoped_by_caller() -> None:
    first = order_id_for("anonymous", "key-1")
    assert first == order_id_for("anonymous", "key-1")
    assert len(first) == 32
    assert int(first, 16) >= 0
    assert first != order_id_for("anonymous", "key-2")
    assert first != order_id_for("alice", "key-1")
    # The separator keeps ("a", "bc") and ("ab", "c") apart.
    assert order_id_for("a", "bc") != order_id_for("ab", "c")


def test_the_fingerprint_ignores_field_order_but_not_values() -> None:
    a = {"customer": "acme", "product": "w", "quantity": 1, "note": None}
    b = {"note": None, "quantity": 1, "product": "w", "customer": "acme"}
    assert request_fingerprint(a) == request_fingerprint(b)
    assert request_fingerprint(a) != request_fingerprint({**a, "quantity": 2})
