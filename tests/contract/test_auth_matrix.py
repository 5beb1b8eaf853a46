"""Every protected route x every kind of token, through the Lambda handler (each event shape)
and straight to the ASGI app: the same status and the same problem type everywhere.

The sample events carry `Bearer __ACCESS_TOKEN__`; each case puts its own token there (or
removes the header). The samples also carry API Gateway's authorizer context, claiming an
operator: a refused token must be refused all the same, since the app never trusts it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest

from tests import tokens
from tests.contract.replay import (
    API_SHAPES,
    EVENTS_DIR,
    load_event,
    request_from_event,
)
from tests.contract.test_api_events import EXPECTED_STATUS, direct, via_lambda

if TYPE_CHECKING:
    from collections.abc import Callable

    from fastapi import FastAPI

    from devstack.invoke import InvocationContext
    from tests.contract.conftest import World

PUBLIC = {"health", "ready", "openapi", "docs"}
PROTECTED = sorted(set(EXPECTED_STATUS) - PUBLIC)
# Samples whose body the app refuses before any rule of the service applies.
MALFORMED = {"bad-json", "bad-quantity"}
READS = {
    "root",
    "get-order",
    "get-order-missing",
    "list-orders",
    "order-events",
    "list-attachments",
}
UNAUTHORIZED = (401, "urn:orders:problem:unauthorized")
FORBIDDEN = (403, "urn:orders:problem:forbidden")
NO_SCOPE = (403, "urn:orders:problem:insufficient-scope")
NOT_FOUND = (404, "urn:orders:problem:not-found")


def _other_key_same_kid() -> str:
    from joserfc.jwk import RSAKey

    impostor = RSAKey.generate_key(2048, parameters={"kid": tokens.KID})
    return tokens.mint("operator", key=impostor)


def _wrong_scope(route: str) -> str:
    # The scope the route does NOT need: a machine that may only write reads, and vice versa.
    # root needs no scope at all.
    return "orders/write" if route in READS else "orders/read"


# case -> (token for the route, or None for no header)
TOKENS: dict[str, Callable[[str], str | None]] = {
    "no-token": lambda _: None,
    "expired": lambda _: tokens.mint("operator", iat=1_700_000_000, exp=1_700_003_600),
    "wrong-issuer": lambda _: tokens.mint("operator", iss="https://issuer.example.com/other"),
    "wrong-client": lambda _: tokens.mint("operator", client_id="someone-elses-client"),
    "id-token": lambda _: tokens.mint("operator", token_use="id"),
    "bad-signature": lambda _: _other_key_same_kid(),
    "unknown-kid": lambda _: tokens.mint("operator", kid="not-a-published-key"),
    "missing-scope": lambda route: tokens.mint("machine", scope=_wrong_scope(route)),
    "other-customer": lambda _: tokens.mint("globex"),
    "own-customer": lambda _: tokens.mint("acme-corp"),
    "operator": lambda _: tokens.mint("operator"),
    "machine": lambda _: tokens.mint("machine"),
}
INVALID = {"no-token", "expired", "wrong-issuer", "wrong-client", "id-token", "bad-signature",
           "unknown-kid"}  # fmt: skip
# Cases that may write: each runs on a freshly seeded table, twice (handler, then direct).
WRITERS = {"own-customer", "operator", "machine"}


def _ok(route: str) -> tuple[int, str | None]:
    return EXPECTED_STATUS[route], None


def expected(case: str, route: str) -> tuple[int, str | None]:
    """(status, problem type or None) the route must answer this token with."""
    if case in INVALID:
        return UNAUTHORIZED
    if route in MALFORMED:
        return _ok(route)
    if case == "missing-scope":
        return _ok(route) if route == "root" else NO_SCOPE
    if case == "other-customer":
        # Another customer's order is indistinguishable from a missing one (orders.service).
        if route in {"create-order", "create-order-idempotent"}:
            return FORBIDDEN  # the body names acme-corp
        if route == "update-status":
            return FORBIDDEN  # customers only cancel
        if route in {"root", "list-orders"}:
            return _ok(route)
        return NOT_FOUND
    if case == "own-customer" and route == "update-status":
        return FORBIDDEN
    return _ok(route)


def with_token(event: dict[str, Any], token: str | None) -> dict[str, Any]:
    """The event with `token` as its bearer token, or with no Authorization header at all."""
    for key in ("headers", "multiValueHeaders"):
        headers = event.get(key) or {}
        for name in [n for n in headers if n.lower() == "authorization"]:
            if token is None:
                del headers[name]
            else:
                headers[name] = f"Bearer {token}" if key == "headers" else [f"Bearer {token}"]
    return event


CASES = [
    pytest.param(shape, route, case, id=f"{shape}/{route}/{case}")
    for shape in API_SHAPES
    for route in PROTECTED
    for case in TOKENS
]


@pytest.mark.parametrize(("shape", "route", "case"), CASES)
def test_the_same_token_gets_the_same_answer_on_every_path(
    shape: str,
    route: str,
    case: str,
    seeded: World,
    direct_app: FastAPI,
    lambda_context: InvocationContext,
) -> None:
    # Given a sample event with this case's token (and an authorizer context that says operator)
    if case in WRITERS:
        seeded.reset()
    event = with_token(load_event(EVENTS_DIR / shape / f"{route}.json"), TOKENS[case](route))
    request = request_from_event(event)
    # When it goes through the Lambda handler, and the same request straight to the app
    lambda_side = via_lambda(event, lambda_context)
    if case in WRITERS:
        seeded.reset()
    direct_side = direct(direct_app, request)
    # Then both answer as the rules say, with the same problem type
    status, problem = expected(case, route)
    for side in (lambda_side, direct_side):
        assert side.status == status, side.body[:300]
        if problem is not None:
            assert side.headers["content-type"] == "application/problem+json"
            assert side.json()["type"] == problem
    if status == 401:
        challenge = lambda_side.headers["www-authenticate"]
        assert challenge == direct_side.headers["www-authenticate"]
        if case == "no-token":
            assert challenge == 'Bearer realm="orders"'
        else:
            assert challenge.startswith('Bearer error="invalid_token", error_description="')
    if problem == NO_SCOPE[1]:
        challenge = lambda_side.headers["www-authenticate"]
        assert challenge.startswith('Bearer error="insufficient_scope"')
        assert challenge == direct_side.headers["www-authenticate"]


def test_every_public_route_answers_without_a_token(
    seeded: World, direct_app: FastAPI, lambda_context: InvocationContext
) -> None:
    for shape in API_SHAPES:
        for route in sorted(PUBLIC):
            event = load_event(EVENTS_DIR / shape / f"{route}.json")
            assert "__ACCESS_TOKEN__" not in str(event)
            assert "authorizer" not in event["requestContext"]
            assert via_lambda(event, lambda_context).status == 200, f"{shape}/{route}"
            assert direct(direct_app, request_from_event(event)).status == 200


def test_every_protected_sample_carries_the_placeholder_and_the_authorizer_context() -> None:
    # PROTECTED is derived (every sample but the public ones): empty, the loop checks nothing.
    assert PROTECTED, "no protected route sample"
    for shape in API_SHAPES:
        for route in PROTECTED:
            raw = (EVENTS_DIR / shape / f"{route}.json").read_text()
            assert "Bearer __ACCESS_TOKEN__" in raw, f"{shape}/{route}"
            context = load_event(EVENTS_DIR / shape / f"{route}.json")["requestContext"]
            if shape == "apigw-v2":
                assert context["authorizer"]["jwt"]["claims"]["token_use"] == "access"
                assert isinstance(context["authorizer"]["jwt"]["scopes"], list)
            elif shape == "apigw-v1":
                assert context["authorizer"]["claims"]["username"] == "operator"
            else:
                assert "authorizer" not in context  # the ALB has none
