"""Token verification and the issuer's key cache, on the unit tier (keys in memory)."""

from __future__ import annotations

from typing import Any

import pytest
from joserfc import jwt
from joserfc.jwk import OctKey, RSAKey

from orders.adapters.jwks import HttpKeySource, KeyCache
from orders.api.auth import InvalidToken, TokenVerifier
from orders.ports import DependencyUnavailable
from tests import tokens
from tests.fakes import fake_settings


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class FailingSource:
    def __init__(self) -> None:
        self.fetches = 0

    def fetch(self) -> dict[str, Any]:
        self.fetches += 1
        raise DependencyUnavailable("token issuer", "GET jwks", "connection refused")


def verifier(source: Any = None, **settings: Any) -> TokenVerifier:
    keys = KeyCache(source or tokens.StaticKeySource(), min_refresh_seconds=60)
    return TokenVerifier(fake_settings(**settings), keys)


# ---------------------------------------------------------------- the key cache


def test_keys_are_fetched_once_and_kept() -> None:
    source = tokens.StaticKeySource()
    cache = KeyCache(source, min_refresh_seconds=60, clock=Clock())
    assert source.fetches == 0  # nothing at start: the first token pays for it
    for _ in range(5):
        assert cache.key(tokens.KID) is not None
    assert source.fetches == 1


def test_an_unknown_kid_refetches_once_then_not_again_within_the_interval() -> None:
    clock = Clock()
    source = tokens.StaticKeySource()
    cache = KeyCache(source, min_refresh_seconds=60, clock=clock)
    cache.key(tokens.KID)
    clock.now += 61
    # The issuer rotated: a new kid is found after one refetch
    source.document = tokens.jwks(tokens.KID, "rotated")
    assert cache.key("rotated") is not None
    assert source.fetches == 2
    # A stream of made-up kids right after: no fetch at all
    for i in range(100):
        assert cache.key(f"bogus-{i}") is None
    assert source.fetches == 2
    # Once the interval has passed, one more fetch for the next unknown kid, and only one
    clock.now += 60
    assert cache.key("bogus-again") is None
    assert cache.key("bogus-and-again") is None
    assert source.fetches == 3
    # The known keys are still served throughout
    assert cache.key(tokens.KID) is not None
    assert source.fetches == 3


def test_a_failing_issuer_is_unavailable_and_not_hammered() -> None:
    clock = Clock()
    source = FailingSource()
    cache = KeyCache(source, min_refresh_seconds=60, clock=clock)
    for _ in range(10):
        with pytest.raises(DependencyUnavailable):
            cache.key(tokens.KID)
    assert source.fetches == 1
    clock.now += 60
    with pytest.raises(DependencyUnavailable):
        cache.key(tokens.KID)
    assert source.fetches == 2


def test_a_malformed_key_set_is_unavailable_not_a_crash() -> None:
    cache = KeyCache(tokens.StaticKeySource({"keys": [{"kty": "nonsense"}]}), min_refresh_seconds=0)
    with pytest.raises(DependencyUnavailable, match="malformed"):
        cache.key(tokens.KID)


def test_the_http_source_fetches_the_document(caplog: pytest.LogCaptureFixture) -> None:
    source = HttpKeySource(tokens.jwks_url(), timeout_seconds=2)
    assert source.fetch() == tokens.jwks()


def test_an_unreachable_issuer_is_a_dependency_failure() -> None:
    from devstack.netports import free_port

    source = HttpKeySource(f"http://127.0.0.1:{free_port()}/jwks.json", timeout_seconds=1)
    with pytest.raises(DependencyUnavailable) as raised:
        source.fetch()
    assert raised.value.dependency == "token issuer"


def test_only_http_urls_are_fetched() -> None:
    with pytest.raises(ValueError, match="http"):
        HttpKeySource("file:///etc/passwd", timeout_seconds=1)


# ---------------------------------------------------------------- the verifier


def test_a_valid_token_names_its_principal() -> None:
    customer = verifier().verify(tokens.mint("acme"))
    operator = verifier().verify(tokens.mint("operator"))
    machine = verifier().verify(tokens.mint("machine", scope="orders/read"))

    assert (customer.customer, customer.is_operator, customer.is_machine) == ("acme", False, False)
    assert customer.caller_id == "user:sub-acme"
    assert (operator.customer, operator.is_operator) == (None, True)
    assert (machine.customer, machine.is_machine, machine.scopes) == (
        None, True, frozenset({"orders/read"}),
    )  # fmt: skip
    assert machine.caller_id == f"client:{tokens.MACHINE_CLIENT}"


def test_the_operator_group_is_a_setting() -> None:
    in_staff: dict[str, Any] = {"cognito:groups": ["staff"]}
    principal = verifier(auth_operator_group="staff").verify(tokens.mint("acme", **in_staff))
    assert principal.is_operator
    assert not verifier().verify(tokens.mint("acme", **in_staff)).is_operator


@pytest.mark.parametrize(
    ("token", "why"),
    [
        pytest.param(
            lambda: tokens.mint(exp=1_700_000_000, iat=1_699_990_000), "expired", id="expired"
        ),
        pytest.param(lambda: tokens.mint(iss="https://evil.example.com"), "iss", id="issuer"),
        pytest.param(lambda: tokens.mint(client_id="other-client"), "client_id", id="client"),
        pytest.param(lambda: tokens.mint(token_use="id"), "token_use", id="id-token"),
        pytest.param(lambda: tokens.mint(sub=None), "sub", id="no-sub"),
        pytest.param(lambda: tokens.mint(exp=None), "exp", id="no-exp"),
        pytest.param(lambda: tokens.mint(kid="unknown"), "unknown key", id="unknown-kid"),
        pytest.param(
            lambda: tokens.mint(key=RSAKey.generate_key(2048, parameters={"kid": tokens.KID})),
            "signature",
            id="bad-signature",
        ),
        pytest.param(
            lambda: jwt.encode(
                {"alg": "HS256", "kid": tokens.KID}, tokens.claims(), OctKey.generate_key(256)
            ),
            "malformed",
            id="hs256",
        ),
        pytest.param(lambda: "not.a.token", "malformed", id="garbage"),
        pytest.param(
            lambda: tokens.mint(client_id=[tokens.UI_CLIENT, "x"]), "malformed", id="client-list"
        ),
        pytest.param(lambda: tokens.mint(iss=[tokens.ISSUER]), "iss", id="issuer-list"),
        pytest.param(lambda: "x" * 9000, "too long", id="too-long"),
    ],
)
def test_a_bad_token_is_refused_with_a_reason(token: Any, why: str) -> None:
    with pytest.raises(InvalidToken) as raised:
        verifier().verify(token())
    assert why in str(raised.value)
    assert raised.value.challenge.startswith('Bearer error="invalid_token", error_description="')


def test_an_unsigned_token_is_refused() -> None:
    import base64
    import json

    def part(value: dict[str, Any]) -> str:
        return base64.urlsafe_b64encode(json.dumps(value).encode()).decode().rstrip("=")

    unsigned = f"{part({'alg': 'none', 'kid': tokens.KID})}.{part(tokens.claims())}."
    with pytest.raises(InvalidToken, match="malformed"):
        verifier().verify(unsigned)


def test_a_little_clock_skew_is_tolerated() -> None:
    import time

    skewed = tokens.mint(exp=int(time.time()) - 5)
    assert verifier(auth_leeway_seconds=30).verify(skewed).customer == "acme"
    with pytest.raises(InvalidToken, match="expired"):
        verifier(auth_leeway_seconds=0).verify(skewed)


def test_no_token_is_a_challenge_without_an_error() -> None:
    assert InvalidToken(None).challenge == 'Bearer realm="orders"'
