"""On Lambda the body is already in memory when the app runs; the limits still answer."""

from __future__ import annotations

import base64
import json
from typing import TYPE_CHECKING, Any

import pytest

from tests.contract.replay import EVENTS_DIR, load_event, response_from_lambda

if TYPE_CHECKING:
    from devstack.invoke import InvocationContext
    from tests.contract.conftest import World

SHAPES = ["apigw-v2", "alb"]
BODY = {"customer": "acme-corp", "product": "widget", "quantity": 3}


def create_event(shape: str, body: bytes, *, content_type: str | None) -> dict[str, Any]:
    """The create-order sample with another body (and Content-Type, or none at all)."""
    event = load_event(EVENTS_DIR / shape / "create-order.json")
    headers = {
        k: v
        for k, v in event["headers"].items()
        if k.lower() not in {"content-type", "content-length"}
    }
    if content_type is not None:
        headers["content-type"] = content_type
    event["headers"] = headers
    event["body"] = base64.b64encode(body).decode()
    event["isBase64Encoded"] = True
    return event


@pytest.mark.parametrize("shape", SHAPES)
def test_a_body_over_the_limit_is_413_problem(
    world: World, lambda_context: InvocationContext, shape: str
) -> None:
    from orders import lambda_handler

    big = json.dumps({**BODY, "note": "x" * (2 * 1024 * 1024)}).encode()
    result = lambda_handler.handler(
        create_event(shape, big, content_type="application/json"),
        lambda_context,  # type: ignore[arg-type]
    )
    response = response_from_lambda(result)
    assert response.status == 413
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["type"] == "urn:orders:problem:payload-too-large"


@pytest.mark.parametrize("shape", SHAPES)
def test_json_with_no_content_type_is_created_and_a_form_type_is_415(
    world: World, lambda_context: InvocationContext, shape: str
) -> None:
    from orders import lambda_handler

    raw = json.dumps(BODY).encode()
    untyped = response_from_lambda(
        lambda_handler.handler(create_event(shape, raw, content_type=None), lambda_context)  # type: ignore[arg-type]
    )
    form = response_from_lambda(
        lambda_handler.handler(
            create_event(shape, raw, content_type="application/x-www-form-urlencoded"),
            lambda_context,  # type: ignore[arg-type]
        )
    )
    assert untyped.status == 201, untyped.body
    assert untyped.json()["customer"] == "acme-corp"
    assert form.status == 415
    assert form.json()["expected"] == "application/json"
