"""Idempotency-Key support on Powertools idempotency, persisted in the service's table."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from aws_lambda_powertools.utilities.idempotency import (
    DynamoDBPersistenceLayer,
    IdempotencyConfig,
    idempotent_function,
)
from aws_lambda_powertools.utilities.idempotency.exceptions import (
    IdempotencyAlreadyInProgressError,
    IdempotencyPersistenceLayerError,
    IdempotencyValidationError,
)

from orders.domain.errors import IdempotencyConflict, IdempotencyInProgress
from orders.observability import logger
from orders.ports import DependencyUnavailable

if TYPE_CHECKING:
    from collections.abc import Callable

    from aws_lambda_powertools.utilities.idempotency.persistence.datarecord import DataRecord
    from mypy_boto3_dynamodb import DynamoDBClient

REPLAY_MARK = "__idempotent_replay__"
KEY_PREFIX = "orders.create"


class _Deadline:
    """Stands in for a Lambda context: Powertools takes the in-progress expiry from it.

    Without one (uvicorn on Fargate) a crashed request would hold its key until the
    record's full TTL; with it the key frees after the request timeout.
    """

    def __init__(self, seconds: int) -> None:
        self._millis = seconds * 1000

    def get_remaining_time_in_millis(self) -> int:
        return self._millis


def _mark_replay(response: Any, _record: DataRecord) -> Any:
    return {**response, REPLAY_MARK: True}


class PowertoolsIdempotency:
    """Idempotency port: records live in the orders table under pk=IDEMPOTENCY."""

    def __init__(
        self,
        *,
        table_name: str,
        client: DynamoDBClient,
        ttl_seconds: int,
        request_timeout_seconds: int,
    ) -> None:
        self._store = DynamoDBPersistenceLayer(
            table_name=table_name,
            key_attr="pk",
            sort_key_attr="sk",
            static_pk_value="IDEMPOTENCY",
            expiry_attr="expiration",
            boto3_client=client,
        )
        self._config = IdempotencyConfig(
            event_key_jmespath="key",
            payload_validation_jmespath="payload",
            raise_on_no_idempotency_key=True,
            expires_after_seconds=ttl_seconds,
            response_hook=_mark_replay,  # type: ignore[arg-type]
        )
        self._config.register_lambda_context(_Deadline(request_timeout_seconds))  # type: ignore[arg-type]

    def run(
        self, *, key: str, payload: dict[str, Any], operation: Callable[[], dict[str, Any]]
    ) -> tuple[dict[str, Any], bool]:
        def create_order(request: dict[str, Any]) -> dict[str, Any]:
            return operation()

        guarded = idempotent_function(
            data_keyword_argument="request",
            persistence_store=self._store,
            config=self._config,
            # Powertools prefixes keys with the Lambda function's name by default, so a
            # key recorded on Lambda would not replay under uvicorn (or after a rename):
            # one fixed prefix makes a key mean the same on every target.
            key_prefix=KEY_PREFIX,
        )(create_order)
        try:
            result: dict[str, Any] = guarded(request={"key": key, "payload": payload})
        except IdempotencyValidationError:
            raise IdempotencyConflict from None
        except IdempotencyAlreadyInProgressError:
            raise IdempotencyInProgress from None
        except IdempotencyPersistenceLayerError as exc:
            # Powertools wraps the SDK error, so adapters.errors.dependency() never saw it:
            # log it here, once, with what the operator needs to find the failing call.
            cause = exc.__cause__ or exc
            logger.error(
                "dependency call failed",
                dependency="dynamodb",
                operation="idempotency",
                error=type(cause).__name__,
                reason=str(cause)[:300],
            )
            raise DependencyUnavailable("dynamodb", "idempotency", str(exc)) from exc
        replayed = bool(result.pop(REPLAY_MARK, False))
        return result, replayed
