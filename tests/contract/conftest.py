"""Contract fixtures: the data plane in moto, seeded with the order the sample events address."""

from __future__ import annotations

import dataclasses
import importlib.util
import sys
from dataclasses import dataclass
from datetime import datetime
from types import ModuleType
from typing import TYPE_CHECKING, Any

import boto3
import pytest

from devstack.invoke import InvocationContext
from tests.contract.replay import EVENTS_DIR
from tests.support import BUCKET, REGION, TABLE, moto_data_plane

if TYPE_CHECKING:
    from collections.abc import Iterator

    from fastapi import FastAPI
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_s3 import S3Client


def load_generator() -> ModuleType:
    """events/generate.py as a module (events/ is not a package)."""
    spec = importlib.util.spec_from_file_location("events_generate", EVENTS_DIR / "generate.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    # dataclasses look their module up in sys.modules while the module runs.
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


samples = load_generator()
ORDER_ID: str = samples.ORDER_ID
ATTACHMENT_ID = "00112233445566778899aabbccddeeff"


@dataclass(frozen=True, slots=True)
class World:
    """The moto data plane as the sample events expect to find it."""

    dynamodb: DynamoDBClient
    s3: S3Client
    queue_url: str

    def reset(self) -> None:
        """Empty the table (orders, outbox, idempotency records) and seed ORDER_ID again."""
        paginator = self.dynamodb.get_paginator("scan")
        keys = [
            {"pk": item["pk"], "sk": item["sk"]}
            for page in paginator.paginate(TableName=TABLE, ProjectionExpression="pk, sk")
            for item in page["Items"]
        ]
        for key in keys:
            self.dynamodb.delete_item(TableName=TABLE, Key=key)
        self.seed_order()

    def seed_order(self) -> None:
        """ORDER_ID, pending at version 1, with its OrderCreated outbox item, at fixed times."""
        from orders.adapters.dynamodb import DynamoOrderRepository
        from orders.domain.model import Order, OrderEvent, OrderStatus

        at = datetime.fromisoformat(samples.CREATED_AT)
        order = Order(
            id=ORDER_ID,
            customer="acme-corp",
            product="widget",
            quantity=3,
            status=OrderStatus.PENDING,
            version=1,
            created_at=at,
            updated_at=at,
        )
        created = OrderEvent.created(order, actor=order.customer)
        event = dataclasses.replace(
            created, id=samples.EVENT_ID, detail={**created.detail, "event_id": samples.EVENT_ID}
        )
        DynamoOrderRepository(table_name=TABLE, client=self.dynamodb).add(order, event)

    def item(self, pk: str, sk: str) -> dict[str, Any] | None:
        response = self.dynamodb.get_item(
            TableName=TABLE, Key={"pk": {"S": pk}, "sk": {"S": sk}}, ConsistentRead=True
        )
        return response.get("Item")


@pytest.fixture(scope="package")
def plane() -> Iterator[dict[str, str]]:
    """moto with the data plane, for the whole contract package.

    Like the `aws` fixture of tests/conftest.py, but made once: each boto3 session
    loads its service models again (about 0.1 s a client), and the samples are
    many. Tests get a fresh state through `world` instead.
    """
    from orders import lambda_handler, outbox

    with pytest.MonkeyPatch.context() as env, moto_data_plane(env) as created:
        lambda_handler.reset()  # also forgets the settings read before
        outbox.reset()
        yield created
        lambda_handler.reset()
        outbox.reset()


@pytest.fixture(scope="package")
def seeded(plane: dict[str, str]) -> World:
    """The world the samples address: ORDER_ID with its outbox item, one attachment."""
    session = boto3.session.Session(region_name=REGION)
    state = World(
        dynamodb=session.client("dynamodb"),
        s3=session.client("s3"),
        queue_url=plane["queue_url"],
    )
    state.s3.put_object(
        Bucket=BUCKET,
        Key=f"orders/{ORDER_ID}/{ATTACHMENT_ID}/invoice.pdf",
        Body=b"%PDF-1.7 sample",
        ContentType="application/pdf",
    )
    return state


@pytest.fixture
def world(seeded: World) -> World:
    """The seeded world, put back to its seeded state for this test."""
    seeded.reset()
    return seeded


@pytest.fixture(scope="package")
def direct_app(plane: dict[str, str]) -> FastAPI:
    """The ASGI app as uvicorn serves it, on the same data plane as the handler."""
    from orders.app import create_app

    return create_app()


@pytest.fixture
def lambda_context() -> InvocationContext:
    """The context `make invoke` passes: what Powertools' Logger and idempotency read."""
    return InvocationContext(function_name="orders-api")
