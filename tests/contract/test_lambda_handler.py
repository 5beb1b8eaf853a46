"""The Lambda entry point adapts and nothing more: one app per execution environment, no lifespan."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from mangum import Mangum

from tests.contract.replay import EVENTS_DIR, load_event, response_from_lambda

if TYPE_CHECKING:
    import pytest

    from devstack.invoke import InvocationContext
    from tests.contract.conftest import World


def test_the_app_is_built_once_per_environment(
    world: World, lambda_context: InvocationContext, monkeypatch: pytest.MonkeyPatch
) -> None:
    from orders import lambda_handler

    built: list[str] = []
    # The names the entry point calls, looked up on it: that is what the patch replaces.
    real_bootstrap = getattr(lambda_handler, "bootstrap")  # noqa: B009
    real_create_app = getattr(lambda_handler, "create_app")  # noqa: B009

    def bootstrap(*args: Any, **kwargs: Any) -> Any:
        built.append("bootstrap")
        return real_bootstrap(*args, **kwargs)

    def create_app(*args: Any, **kwargs: Any) -> Any:
        built.append("create_app")
        return real_create_app(*args, **kwargs)

    monkeypatch.setattr(lambda_handler, "bootstrap", bootstrap)
    monkeypatch.setattr(lambda_handler, "create_app", create_app)
    lambda_handler.reset()
    try:
        # Given a cold environment; When two requests arrive
        health = load_event(EVENTS_DIR / "apigw-v2/health.json")
        order = load_event(EVENTS_DIR / "apigw-v2/get-order.json")
        first = response_from_lambda(lambda_handler.handler(health, lambda_context))  # type: ignore[arg-type]
        second = response_from_lambda(lambda_handler.handler(order, lambda_context))  # type: ignore[arg-type]
        # Then both are served by the one app built on the first
        assert (first.status, second.status) == (200, 200)
        assert built == ["bootstrap", "create_app"]
    finally:
        lambda_handler.reset()


def test_mangum_runs_with_lifespan_off(
    world: World, lambda_context: InvocationContext, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Mangum's default ("auto") runs startup and shutdown around every invocation."""
    from orders import lambda_handler

    options: list[dict[str, Any]] = []
    scopes: list[str] = []

    class RecordingMangum(Mangum):
        def __init__(self, app: Any, **kwargs: Any) -> None:
            options.append(kwargs)

            async def spy(scope: Any, receive: Any, send: Any) -> None:
                scopes.append(scope["type"])
                await app(scope, receive, send)

            super().__init__(spy, **kwargs)

    monkeypatch.setattr(lambda_handler, "Mangum", RecordingMangum)
    lambda_handler.reset()
    try:
        event = load_event(EVENTS_DIR / "alb/health.json")
        for _ in range(2):
            assert lambda_handler.handler(event, lambda_context)["statusCode"] == 200  # type: ignore[arg-type]
        assert [o.get("lifespan") for o in options] == ["off"]
        assert scopes == ["http", "http"]  # no "lifespan" scope, ever
    finally:
        lambda_handler.reset()


def test_aws_clients_are_made_on_the_first_request_that_needs_them(
    world: World, lambda_context: InvocationContext, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A cold start that answers health or docs pays for no boto3 client; later ones reuse them."""
    from orders import lambda_handler
    from orders.adapters import aws

    made: list[str] = []
    real_build_clients = aws.build_clients

    def build_clients(*args: Any, **kwargs: Any) -> Any:
        made.append("clients")
        return real_build_clients(*args, **kwargs)

    monkeypatch.setattr(aws, "build_clients", build_clients)
    lambda_handler.reset()
    try:
        made_after: dict[str, int] = {}
        for name in ("health", "docs", "get-order", "list-orders", "ready"):
            event = load_event(EVENTS_DIR / f"apigw-v2/{name}.json")
            assert lambda_handler.handler(event, lambda_context)["statusCode"] == 200  # type: ignore[arg-type]
            made_after[name] = len(made)
        assert made_after == {"health": 0, "docs": 0, "get-order": 1, "list-orders": 1, "ready": 1}
    finally:
        lambda_handler.reset()
