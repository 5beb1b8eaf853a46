"""Publish one order's outbox events, once: `python -m tests.ui.publish_outbox <order id>`.

Run with the service's environment. It reads the table's stream from the start and hands
the order's records to the real `orders.outbox.handler`, shaped as Lambda delivers them,
so the UI test sees events turn from pending to published without the dev stack's loop.
"""

from __future__ import annotations

import sys
from datetime import datetime
from typing import Any

import boto3

from orders.outbox import handler
from orders.settings import get_settings


def lambda_record(record: dict[str, Any], stream_arn: str) -> dict[str, Any]:
    data = dict(record["dynamodb"])
    created = data.get("ApproximateCreationDateTime")
    if isinstance(created, datetime):
        data["ApproximateCreationDateTime"] = int(created.timestamp())
    return {
        "eventID": record["eventID"],
        "eventName": record["eventName"],
        "eventVersion": "1.1",
        "eventSource": "aws:dynamodb",
        "awsRegion": stream_arn.split(":")[3],
        "dynamodb": data,
        "eventSourceARN": stream_arn,
    }


def main(order_id: str) -> int:
    settings = get_settings()
    table = boto3.client("dynamodb").describe_table(TableName=settings.table_name)["Table"]
    stream_arn = table["LatestStreamArn"]
    streams = boto3.client("dynamodbstreams")
    records = []
    for shard in streams.describe_stream(StreamArn=stream_arn)["StreamDescription"]["Shards"]:
        iterator = streams.get_shard_iterator(
            StreamArn=stream_arn, ShardId=shard["ShardId"], ShardIteratorType="TRIM_HORIZON"
        )["ShardIterator"]
        for record in streams.get_records(ShardIterator=iterator, Limit=1000)["Records"]:
            image = record["dynamodb"].get("NewImage", {})
            if image.get("order_id", {}).get("S") == order_id:
                records.append(lambda_record(dict(record), stream_arn))
    result = handler({"Records": records}, None)
    failures = result.get("batchItemFailures", [])
    print(f"{len(records)} records, {len(failures)} failed")
    return 1 if failures or not records else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
