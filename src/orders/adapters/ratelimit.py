"""The throttle's counters on the shared DynamoDB table (orders.throttle.RateLimiter).

One item per caller and window: pk `RATE#<caller>`, sk `WINDOW#<window start>`, a `hits`
counter and the table's TTL attribute (`expiration`, cform/data.yaml), so old windows
delete themselves. A request is counted by one conditional UpdateItem (ADD only while
`hits < limit`): atomic on the item, so concurrent requests on Lambda environments and
Fargate tasks together never count past the limit, and a full window costs a failed
condition (a write unit) and nothing else. The item carries none of the attributes the
list indexes use, so counters never appear in a list.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from botocore.exceptions import BotoCoreError, ClientError

from orders.adapters.errors import error_code
from orders.ports import DependencyUnavailable

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

    from orders.throttle import Window

RATE_PREFIX = "RATE#"
WINDOW_PREFIX = "WINDOW#"
DEPENDENCY = "dynamodb"
OPERATION = "UpdateItem"


def rate_key(caller: str, window: Window) -> dict[str, dict[str, str]]:
    return {"pk": {"S": f"{RATE_PREFIX}{caller}"}, "sk": {"S": f"{WINDOW_PREFIX}{window.start}"}}


class DynamoRateLimiter:
    """Counts requests per caller and window with conditional updates of one item."""

    def __init__(self, *, table_name: str, client: DynamoDBClient) -> None:
        self._table = table_name
        self._client = client

    def hit(self, caller: str, window: Window, limit: int) -> bool:
        try:
            self._client.update_item(
                TableName=self._table,
                Key=rate_key(caller, window),
                # The expiry outlives the window by one window: DynamoDB's TTL deletes late
                # (within days), and the item is never read once its window is over.
                UpdateExpression="ADD hits :one SET expiration = if_not_exists(expiration, :exp)",
                ConditionExpression="attribute_not_exists(hits) OR hits < :limit",
                ExpressionAttributeValues={
                    ":one": {"N": "1"},
                    ":limit": {"N": str(limit)},
                    ":exp": {"N": str(window.end + (window.end - window.start))},
                },
            )
        except ClientError as exc:
            code = error_code(exc)
            if code == "ConditionalCheckFailedException":
                return False
            # The caller (orders.throttle.Throttle) logs it with the caller and fails open.
            raise DependencyUnavailable(DEPENDENCY, OPERATION, code) from exc
        except BotoCoreError as exc:
            raise DependencyUnavailable(DEPENDENCY, OPERATION, type(exc).__name__) from exc
        return True
