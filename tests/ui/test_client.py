"""The UI's API client: how answers and failures become values and exceptions (no network)."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

import httpx
import pytest

from ui.client import ApiError, ApiUnavailable, OrdersClient, UploadRejected, UploadTarget

if TYPE_CHECKING:
    from collections.abc import Callable

ORDER = {
    "id": "a" * 32,
    "customer": "acme",
    "product": "widget",
    "quantity": 2,
    "note": None,
    "status": "pending",
    "version": 1,
    "created_at": "2026-11-23T10:00:00+00:00",
    "updated_at": "2026-11-23T10:00:00+00:00",
    "allowed_transitions": ["confirmed", "cancelled"],
}


def client_answering(
    handler: Callable[[httpx.Request], httpx.Response],
) -> tuple[OrdersClient, list[httpx.Request]]:
    seen: list[httpx.Request] = []

    def record(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return handler(request)

    return OrdersClient("http://api.test/", transport=httpx.MockTransport(record)), seen


def problem(status: int, kind: str, detail: str, **extra: object) -> httpx.Response:
    body = {"type": f"urn:orders:problem:{kind}", "title": "T", "status": status, "detail": detail}
    return httpx.Response(
        status, json={**body, **extra}, headers={"content-type": "application/problem+json"}
    )


def test_a_409_becomes_a_typed_api_error() -> None:
    api, _ = client_answering(
        lambda r: problem(409, "version-conflict", "expected version 1", current_version=2)
    )

    with pytest.raises(ApiError) as raised:
        api.change_status("a" * 32, status="confirmed", version=1)

    error = raised.value
    assert (error.status, error.kind, error.detail) == (
        409,
        "version-conflict",
        "expected version 1",
    )
    assert error.is_conflict
    assert error.body["current_version"] == 2


def test_status_change_sends_the_version_read() -> None:
    api, seen = client_answering(lambda r: httpx.Response(200, json={**ORDER, "version": 2}))

    order = api.change_status("a" * 32, status="confirmed", version=1)

    [request] = seen
    assert (request.method, request.url.path) == ("PUT", f"/api/orders/{'a' * 32}/status")
    assert json.loads(request.content) == {"status": "confirmed", "version": 1}
    assert order.version == 2
    assert order.allowed_transitions == ["confirmed", "cancelled"]


def test_cancel_posts_the_version() -> None:
    api, seen = client_answering(lambda r: httpx.Response(200, json=ORDER))

    api.cancel("a" * 32, version=3)

    assert seen[0].url.path.endswith("/cancel")
    assert json.loads(seen[0].content) == {"version": 3}


def test_create_sends_the_idempotency_key_and_reports_a_replay() -> None:
    api, seen = client_answering(
        lambda r: httpx.Response(201, json=ORDER, headers={"Idempotent-Replayed": "true"})
    )

    created = api.create_order(customer="acme", product="widget", quantity=2, idempotency_key="k1")

    assert seen[0].headers["Idempotency-Key"] == "k1"
    assert json.loads(seen[0].content) == {"customer": "acme", "product": "widget", "quantity": 2}
    assert created.replayed


def test_a_non_problem_error_keeps_status_and_a_short_text() -> None:
    api, _ = client_answering(lambda r: httpx.Response(502, text="<html>" + "x" * 500 + "</html>"))

    with pytest.raises(ApiError) as raised:
        api.get_order("a" * 32)

    assert raised.value.status == 502
    assert raised.value.type == "about:blank"
    assert len(raised.value.detail) <= 200


@pytest.mark.parametrize(
    ("failure", "reason", "call"),
    [
        (httpx.ConnectError, "connection refused", lambda api: api.health()),
        (httpx.ReadTimeout, "timed out", lambda api: api.list_orders()),
    ],
)
def test_no_answer_is_api_unavailable(
    failure: type[httpx.TransportError], reason: str, call: Callable[[OrdersClient], object]
) -> None:
    def fail(request: httpx.Request) -> httpx.Response:
        raise failure("no answer", request=request)

    api, _ = client_answering(fail)

    with pytest.raises(ApiUnavailable, match=reason):
        call(api)


def test_ready_reads_a_503_as_an_answer() -> None:
    api, _ = client_answering(
        lambda r: httpx.Response(
            503, json={"status": "unavailable", "checks": {"dynamodb": "ok", "s3": "NoSuchBucket"}}
        )
    )

    readiness = api.ready()

    assert not readiness.ok
    assert readiness.failing == {"s3": "NoSuchBucket"}


@pytest.mark.parametrize(
    ("answer", "title"),
    [
        (httpx.Response(503, text="<html>Service Unavailable</html>"), "Service Unavailable"),
        (httpx.Response(200, json={"status": "ok", "checks": ["dynamodb"]}), "Unexpected response"),
    ],
    ids=["a proxy's page", "checks not a mapping"],
)
def test_ready_tells_a_page_or_a_broken_answer_from_readiness(
    answer: httpx.Response, title: str
) -> None:
    api, _ = client_answering(lambda r: answer)

    with pytest.raises(ApiError) as raised:
        api.ready()

    assert (raised.value.status, raised.value.title) == (answer.status_code, title)


def test_list_sends_only_the_filters_given() -> None:
    api, seen = client_answering(
        lambda r: httpx.Response(200, json={"items": [ORDER], "next_cursor": "c2"})
    )

    page = api.list_orders(status="pending", limit=5, cursor="c1")

    assert dict(seen[0].url.params) == {"status": "pending", "limit": "5", "cursor": "c1"}
    assert page.next_cursor == "c2"


def uploader(answer: httpx.Response) -> tuple[OrdersClient, list[httpx.Request]]:
    seen: list[httpx.Request] = []

    def record(request: httpx.Request) -> httpx.Response:
        request.read()
        seen.append(request)
        return answer

    api = OrdersClient("http://api.test", storage_transport=httpx.MockTransport(record))
    return api, seen


TARGET = UploadTarget.model_validate(
    {
        "attachment_id": "x",
        "key": "orders/a/x",
        "filename": "a.txt",
        "upload": {
            "url": "http://s3.test/bucket",
            "fields": {"key": "orders/a/x/a.txt", "Content-Type": "text/plain", "policy": "p"},
        },
        "expires_in": 300,
        "max_bytes": 10,
    }
)


def test_upload_posts_the_presigned_fields_before_the_file() -> None:
    api, seen = uploader(httpx.Response(204))

    api.upload(TARGET, filename="a.txt", content=b"hello")

    [request] = seen
    assert str(request.url) == "http://s3.test/bucket"
    body = request.content
    # S3 ignores form fields that come after the file.
    assert body.index(b'name="key"') < body.index(b'name="policy"') < body.index(b'name="file"')
    assert b"Content-Type: text/plain" in body
    assert b"hello" in body


def test_an_s3_refusal_is_upload_rejected() -> None:
    s3_error = (
        "<Error><Code>EntityTooLarge</Code>"
        "<Message>Your proposed upload exceeds the maximum allowed size</Message></Error>"
    )
    api, _ = uploader(httpx.Response(400, text=s3_error))

    with pytest.raises(UploadRejected) as raised:
        api.upload(TARGET, filename="a.txt", content=b"ab")

    assert (raised.value.status, raised.value.code) == (400, "EntityTooLarge")
    assert "maximum allowed size" in raised.value.message


def test_create_waits_for_a_request_with_the_same_key_still_in_progress() -> None:
    answers = iter(
        [
            problem(409, "idempotency-in-progress", "a request with this key is running"),
            httpx.Response(201, json=ORDER, headers={"Idempotent-Replayed": "true"}),
        ]
    )
    api, seen = client_answering(lambda r: next(answers))

    created = api.create_order(customer="acme", product="widget", quantity=2, idempotency_key="k")

    assert created.order.id == ORDER["id"]
    assert [r.headers["Idempotency-Key"] for r in seen] == ["k", "k"]


def test_create_gives_up_waiting_after_the_limit() -> None:
    api, seen = client_answering(lambda r: problem(409, "idempotency-in-progress", "running"))

    with pytest.raises(ApiError, match="running"):
        api.create_order(
            customer="a", product="b", quantity=1, idempotency_key="k", in_progress_wait=0.3
        )

    assert 2 <= len(seen) <= 3


# -- issue 11: the bearer token, per session ---------------------------------------------


def test_a_bound_token_goes_on_every_call_and_the_shared_client_keeps_none() -> None:
    shared, seen = client_answering(lambda r: httpx.Response(200, json={"items": []}))

    shared.authorized("token-of-alice").events("a" * 32)
    shared.authorized(None).events("a" * 32)
    shared.events("a" * 32)

    assert [r.headers.get("Authorization") for r in seen] == ["Bearer token-of-alice", None, None]


# -- issue 16 items 7 and 8: the shapes the ui-api branch adds, and their absence --------


def test_the_list_passes_prefix_and_sort_and_reads_has_more() -> None:
    client, seen = client_answering(
        lambda r: httpx.Response(
            200, json={"items": [ORDER], "next_cursor": "c2", "has_more": True}
        )
    )

    page = client.list_orders(customer_prefix="ac", sort="updated")

    assert seen[0].url.params["customer_prefix"] == "ac"
    assert seen[0].url.params["sort"] == "updated"
    assert page.has_more is True


@pytest.mark.parametrize(("cursor", "more"), [(None, False), ("c2", True)])
def test_a_list_without_has_more_has_more_when_it_has_a_cursor(
    cursor: str | None, more: bool
) -> None:
    """An API from before `has_more` (a rolling deploy) said it by the cursor alone."""
    client, _ = client_answering(
        lambda r: httpx.Response(200, json={"items": [], "next_cursor": cursor})
    )

    assert client.list_orders().has_more is more


def test_a_422_names_its_fields() -> None:
    client, _ = client_answering(
        lambda r: problem(
            422, "validation-error", "customer: String should have at least 1 character",
            errors=[{"field": "customer", "message": "String should have at least 1 character"}],
        )
    )  # fmt: skip

    with pytest.raises(ApiError) as caught:
        client.create_order(customer=" ", product="p", quantity=1, idempotency_key="k")

    assert caught.value.field_errors == {"customer": "String should have at least 1 character"}


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("17", 17),
        (None, None),
        ("soon", None),
        # An HTTP-date: seconds from now, rounded up (the date is well in the past: 0).
        ("Wed, 21 Oct 2015 07:28:00 GMT", 0),
    ],
)
def test_a_429_carries_the_wait_from_retry_after(header: str | None, expected: int | None) -> None:
    headers = {"content-type": "application/problem+json"}
    if header is not None:
        headers["Retry-After"] = header
    body = {
        "type": "urn:orders:problem:too-many-requests",
        "title": "Too Many Requests",
        "status": 429,
        "detail": "more than 60 requests in 60 s from this caller; retry after 17 s",
    }
    api, _ = client_answering(lambda r: httpx.Response(429, json=body, headers=headers))

    with pytest.raises(ApiError) as raised:
        api.list_orders()

    assert (raised.value.status, raised.value.kind) == (429, "too-many-requests")
    assert raised.value.retry_after == expected


def test_a_future_http_date_retry_after_is_seconds_from_now() -> None:
    from datetime import UTC, datetime, timedelta
    from email.utils import format_datetime

    later = format_datetime(datetime.now(UTC) + timedelta(seconds=120), usegmt=True)
    api, _ = client_answering(
        lambda r: httpx.Response(503, text="busy", headers={"Retry-After": later})
    )

    with pytest.raises(ApiError) as raised:
        api.get_order("a" * 32)

    assert raised.value.retry_after is not None
    assert 110 <= raised.value.retry_after <= 121


# -- issue 15: the API's own models read the answers ------------------------------------


def test_an_answer_that_breaks_the_contract_is_an_api_error_naming_the_field() -> None:
    broken = {key: value for key, value in ORDER.items() if key != "version"}
    client, _ = client_answering(lambda r: httpx.Response(200, json=broken))

    with pytest.raises(ApiError) as raised:
        client.get_order("a" * 32)

    assert (raised.value.status, raised.value.title) == (200, "Unexpected response")
    assert raised.value.detail == "Order: version: Field required"


def test_an_event_from_an_api_before_its_statuses_and_actor_is_read() -> None:
    older = {
        "id": "e1",
        "detail_type": "OrderCreated",
        "occurred_at": "2026-11-23T10:00:00+00:00",
        "detail": {"order": ORDER},
        "published_at": None,
        "bus_event_id": None,
    }
    client, _ = client_answering(lambda r: httpx.Response(200, json={"items": [older]}))

    [event] = client.events("a" * 32)

    assert event.at == older["occurred_at"]
    assert (event.from_status, event.to_status, event.actor) == (None, None, None)
    assert not event.published
