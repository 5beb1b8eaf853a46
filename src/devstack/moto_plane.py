"""The data plane created directly in moto (in-process `mock_aws`, no CloudFormation), as
the data stack defines it, and the service's environment pointing at it. Used by the
tests (tests/support.py) and by the bench, so neither imports the other; it lives in
devstack because the top level of the repository is fixed."""

from __future__ import annotations

from typing import TYPE_CHECKING

from devstack.envs import FAKE_CREDENTIALS, POWERTOOLS

if TYPE_CHECKING:
    import boto3
    from mypy_boto3_dynamodb.type_defs import GlobalSecondaryIndexTypeDef

REGION = "us-east-1"
TABLE = "orders-test"
BUCKET = "orders-attachments-test"
BUS = "orders-test-bus"


def service_env(kms_key_id: str, **extra: str) -> dict[str, str]:
    """The environment the service reads, pointing at the test data plane."""
    return {
        "ORDERS_TABLE_NAME": TABLE,
        "ORDERS_BUCKET_NAME": BUCKET,
        "ORDERS_EVENT_BUS_NAME": BUS,
        "ORDERS_KMS_KEY_ID": kms_key_id,
        "AWS_REGION": REGION,
        "AWS_DEFAULT_REGION": REGION,
        **FAKE_CREDENTIALS,
        "AWS_ACCOUNT_ID_ENDPOINT_MODE": "disabled",
        **POWERTOOLS,
        # Processes started on this plane (UI, server and e2e tests, bench) are not about
        # auth; tests/support.py turns it on for the in-process tiers with a test issuer.
        "ORDERS_AUTH_DISABLED": "true",
        **extra,
    }


def gsi(name: str, hash_key: str, range_key: str = "created_key") -> GlobalSecondaryIndexTypeDef:
    return {
        "IndexName": name,
        "KeySchema": [
            {"AttributeName": hash_key, "KeyType": "HASH"},
            {"AttributeName": range_key, "KeyType": "RANGE"},
        ],
        "Projection": {"ProjectionType": "ALL"},
    }


def create_data_plane(session: boto3.session.Session) -> dict[str, str]:
    """Table, bucket, bus, key and an events queue, as the data stack defines them.

    Returns the KMS key id and the queue URL the bus rule delivers to.
    """
    kms = session.client("kms", region_name=REGION)
    key_id = kms.create_key(Description="orders test key")["KeyMetadata"]["Arn"]
    ddb = session.client("dynamodb", region_name=REGION)
    ddb.create_table(
        TableName=TABLE,
        BillingMode="PAY_PER_REQUEST",
        AttributeDefinitions=[
            {"AttributeName": n, "AttributeType": "S"}
            for n in (
                "pk",
                "sk",
                "entity",
                "status",
                "customer",
                "created_key",
                "customer_key",
                "updated_key",
            )
        ],
        KeySchema=[
            {"AttributeName": "pk", "KeyType": "HASH"},
            {"AttributeName": "sk", "KeyType": "RANGE"},
        ],
        GlobalSecondaryIndexes=[
            gsi("by_created", "entity"),
            gsi("by_status", "status"),
            gsi("by_customer", "customer"),
            gsi("by_customer_name", "entity", "customer_key"),
            gsi("by_updated", "entity", "updated_key"),
        ],
        StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"},
    )
    session.client("s3", region_name=REGION).create_bucket(Bucket=BUCKET)
    events = session.client("events", region_name=REGION)
    events.create_event_bus(Name=BUS)
    sqs = session.client("sqs", region_name=REGION)
    queue_url = sqs.create_queue(QueueName="orders-events")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])[
        "Attributes"
    ]["QueueArn"]
    events.put_rule(
        Name="orders-to-queue",
        EventBusName=BUS,
        EventPattern='{"source": ["orders.service"]}',
    )
    events.put_targets(
        Rule="orders-to-queue", EventBusName=BUS, Targets=[{"Id": "queue", "Arn": queue_arn}]
    )
    return {"kms_key_id": key_id, "queue_url": queue_url}
