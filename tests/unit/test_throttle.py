"""Per-caller throttling on the in-memory counters: the policy, the fail-open, the 429."""

from __future__ import annotations

import threading
from types import SimpleNamespace
from typing import TYPE_CHECKING, Any

import pytest
from fastapi.testclient import TestClient

from orders import throttle as throttle_module
from orders.api.throttle import caller_key
from orders.app import API_PREFIX, create_app
from orders.domain.principal import AUTH_DISABLED, Principal
from orders.observability import MetricName
from orders.ports import DependencyUnavailable
from orders.throttle import InMemoryRateLimiter, Throttle, Window
from tests import tokens
from tests.fakes import Fakes, fake_settings

if TYPE_CHECKING:
    from collections.abc import Callable

ORDERS = f"{API_PREFIX}/orders"


class Clock:
    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


class BrokenLimiter:
    """A counter store that cannot be reached (throttled table, network, missing table)."""

    def hit(self, caller: str, window: Window, limit: int) -> bool:
        raise DependencyUnavailable("dynamodb", "UpdateItem", "ProvisionedThroughputExceeded")


@pytest.fixture
def metrics(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    counted: list[str] = []
    monkeypatch.setattr(throttle_module, "count", lambda name, value=1: counted.append(name))
    return counted


def test_a_caller_gets_the_limit_then_a_refusal_until_its_window_ends(metrics: list[str]) -> None:
    clock = Clock(1_000_040.0)  # 20 s into the window [1_000_020, 1_000_080)
    policy = Throttle(InMemoryRateLimiter(), limit=3, clock=clock)

    answers = [policy.check("user:a") for _ in range(4)]

    assert [a.allowed for a in answers] == [True, True, True, False]
    assert answers[-1].retry_after == 40
    assert metrics == [MetricName.THROTTLED]
    clock.now += 40  # the next window
    assert policy.check("user:a").allowed


def test_retry_after_is_whole_seconds_and_never_zero() -> None:
    clock = Clock(1_000_079.6)  # 0.4 s before the window ends
    policy = Throttle(InMemoryRateLimiter(), limit=1, clock=clock)
    policy.check("user:a")

    assert policy.check("user:a").retry_after == 1


def test_callers_are_counted_apart() -> None:
    policy = Throttle(InMemoryRateLimiter(), limit=1, clock=Clock(1_000_000.0))

    assert policy.check("user:a").allowed
    assert policy.check("client:b").allowed
    assert not policy.check("user:a").allowed


def test_a_store_failure_lets_the_request_through_with_a_warning_and_a_metric(
    metrics: list[str], caplog: pytest.LogCaptureFixture
) -> None:
    policy = Throttle(BrokenLimiter(), limit=1, clock=Clock(1_000_000.0))

    answers = [policy.check("user:a") for _ in range(3)]

    assert all(a.allowed for a in answers)
    assert metrics == [MetricName.THROTTLE_STORE_FAILURES] * 3
    warnings = [r for r in caplog.records if r.levelname == "WARNING"]
    assert len(warnings) == 3
    assert "throttle store unavailable" in warnings[0].getMessage()
    assert warnings[0].__dict__["reason"] == "ProvisionedThroughputExceeded"
    assert warnings[0].__dict__["caller"] == "user:a"


def test_the_in_memory_counter_counts_exactly_the_limit_under_threads() -> None:
    limiter = InMemoryRateLimiter()
    window = Window(start=60, end=120)
    results: list[bool] = []
    start = threading.Barrier(16)

    def worker() -> None:
        start.wait()
        results.extend(limiter.hit("user:a", window, 5) for _ in range(4))

    threads = [threading.Thread(target=worker) for _ in range(16)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    assert results.count(True) == 5
    assert len(results) == 64


def test_the_in_memory_counter_forgets_ended_windows() -> None:
    limiter = InMemoryRateLimiter()
    for caller in ("a", "b", "c"):
        limiter.hit(caller, Window(0, 60), 10)
    limiter.hit("a", Window(60, 120), 10)

    assert set(limiter._counts) == {("a", 60)}


def test_a_policy_without_a_limit_is_refused() -> None:
    with pytest.raises(ValueError, match="at least 1"):
        Throttle(InMemoryRateLimiter(), limit=0)


# ------------------------------------------------------------------ the caller's key


def _request(host: str | None = "203.0.113.9") -> Any:
    return SimpleNamespace(client=SimpleNamespace(host=host) if host else None)


def test_the_key_is_the_principals_caller_id_when_authenticated() -> None:
    principal = Principal(
        subject="s-1",
        client_id="machine-1",
        username=None,
        groups=frozenset(),
        scopes=frozenset({"orders/read"}),
    )

    assert caller_key(_request(), principal) == "client:machine-1"


def test_with_authentication_off_the_key_is_the_client_address() -> None:
    # Everyone is the same stand-in principal then: only the address tells callers apart.
    assert caller_key(_request(), AUTH_DISABLED) == "ip:203.0.113.9"
    assert caller_key(_request(host=None), AUTH_DISABLED) == "ip:unknown"


# ------------------------------------------------------------------ the API


def _app_client(limit: int, build: Callable[[Fakes], Any] | None = None) -> TestClient:
    fakes = Fakes()
    container = fakes.container(
        fake_settings(rate_limit_per_minute=limit), rate_limiter=build(fakes) if build else None
    )
    return TestClient(
        create_app(container, trace_requests=False), headers=tokens.bearer("operator")
    )


def test_past_the_limit_the_api_answers_429_problem_json_with_retry_after(
    metrics: list[str],
) -> None:
    client = _app_client(limit=2)
    body = {"customer": "acme", "product": "widget", "quantity": 1}

    first = client.post(ORDERS, json=body)
    second = client.get(ORDERS)
    third = client.get(f"{ORDERS}/{first.json()['id']}/attachments")

    assert first.status_code == 201, first.text
    assert second.status_code == 200
    assert third.status_code == 429
    assert third.headers["content-type"] == "application/problem+json"
    assert 1 <= int(third.headers["Retry-After"]) <= 60
    problem = third.json()
    assert problem["status"] == 429
    assert "more than 2 requests" in problem["detail"]
    assert metrics == [MetricName.THROTTLED]


def test_health_ready_and_docs_are_not_throttled() -> None:
    client = _app_client(limit=1)

    answers = [client.get(f"{API_PREFIX}{path}") for path in ("/health", "/health", "/ready")]
    answers += [client.get(f"{API_PREFIX}/openapi.json"), client.get(f"{API_PREFIX}/docs")]

    assert [a.status_code for a in answers] == [200] * 5


def test_a_failing_counter_store_never_makes_a_5xx(metrics: list[str]) -> None:
    client = _app_client(limit=1, build=lambda _: BrokenLimiter())

    answers = [client.get(ORDERS) for _ in range(3)]

    assert [a.status_code for a in answers] == [200] * 3
    assert metrics == [MetricName.THROTTLE_STORE_FAILURES] * 3


def test_a_limit_of_zero_switches_throttling_off() -> None:
    client = _app_client(limit=0)

    assert [client.get(ORDERS).status_code for _ in range(5)] == [200] * 5
    assert client.app.state.container.throttle is None  # type: ignore[attr-defined]


def test_the_openapi_document_lists_429_on_throttled_routes_only() -> None:
    document = _app_client(limit=5).get(f"{API_PREFIX}/openapi.json").json()

    assert "429" in document["paths"][ORDERS]["get"]["responses"]
    assert "429" in document["paths"][f"{ORDERS}/{{order_id}}/attachments"]["post"]["responses"]
    assert "429" not in document["paths"][f"{API_PREFIX}/health"]["get"]["responses"]
