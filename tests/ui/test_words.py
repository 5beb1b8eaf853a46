"""What the UI says, and how user text is shown: pure functions, no Streamlit runtime."""

from __future__ import annotations

from datetime import UTC
from zoneinfo import ZoneInfo

import pytest

from ui.client import ApiError, ApiUnavailable
from ui.schema import Schema
from ui.views.common import SignedOut, describe, literal
from ui.views.styles import when


def test_problems_are_said_in_plain_words_without_codes_or_field_paths() -> None:
    error = ApiError(
        422,
        type="urn:orders:problem:validation-error",
        detail="customer: String should have at least 1 character",
        body={"errors": [{"field": "customer", "message": "String should have..."}]},
    )

    level, message = describe(error)

    assert level == "error"
    assert "Customer" in message
    assert "422" not in message
    assert "String should" not in message
    assert "urn:" not in message


def test_403_says_the_user_may_not_and_401_signs_out() -> None:
    assert "may not do that" in describe(ApiError(403, type="about:blank"))[1]
    with pytest.raises(SignedOut):
        describe(ApiError(401, type="about:blank"))


@pytest.mark.parametrize(
    ("retry_after", "wait"),
    [
        (17, "Wait 17 seconds, then try again."),
        (1, "Wait 1 second, then try again."),
        (120, "Wait about 2 minutes, then try again."),
        (None, "Wait a few seconds, then try again."),
    ],
)
def test_a_429_says_how_long_to_wait_in_plain_words(retry_after: int | None, wait: str) -> None:
    error = ApiError(
        429,
        type="urn:orders:problem:too-many-requests",
        title="Too Many Requests",
        detail="more than 60 requests in 60 s from this caller; retry after 17 s",
        retry_after=retry_after,
    )

    level, message = describe(error)

    assert level == "warning"
    assert message == f"Too many requests in a short time. {wait}"
    for developer_word in ("429", "Retry-After", "caller", "urn:", "Too Many Requests"):
        assert developer_word not in message


def test_an_outage_is_reconnecting_not_an_env_var() -> None:
    level, message = describe(ApiUnavailable("http://x", "timed out"))

    assert level == "warning"
    assert "ORDERS_API_URL" not in message
    assert "Reconnecting" in message


@pytest.mark.parametrize(
    "text",
    ["acme_corp *vip*", "widget :red[x]", "# heading", "[a](http://evil.example)", "$x$ `y` <b>"],
)
def test_literal_escapes_every_markdown_character(text: str) -> None:
    escaped = literal(text)

    # Every ASCII punctuation character is backslash-escaped, and nothing else changes.
    assert escaped.replace("\\", "") == text.replace("\\", "")
    assert all(escaped[i - 1] == "\\" for i, c in enumerate(escaped) if c in "*_[]:#`$<>()")


def test_times_are_shown_in_the_viewers_zone_with_its_name() -> None:
    assert when("2026-11-30T18:05:00+00:00", ZoneInfo("Europe/Berlin")) == "2026-11-30 19:05:00 CET"
    assert when("2026-07-01T12:00:00+02:00", UTC) == "2026-07-01 10:00:00 UTC"


def test_the_limits_come_from_the_openapi_document() -> None:
    document = {
        "components": {
            "schemas": {
                "OrderStatus": {"enum": ["pending", "paid"]},
                "OrderCreate": {
                    "required": ["customer", "quantity"],
                    "properties": {
                        "customer": {"type": "string", "minLength": 1, "maxLength": 7},
                        "quantity": {"type": "integer", "exclusiveMinimum": 0, "maximum": 9},
                        "note": {"anyOf": [{"type": "string", "maxLength": 3}, {"type": "null"}]},
                    },
                },
            }
        },
        "paths": {"/api/orders": {"get": {"parameters": [{"name": "customer_prefix"}]}}},
    }

    schema = Schema.from_openapi(document)

    assert schema.statuses == ("pending", "paid")
    assert schema.rules("customer").max_length == 7
    assert schema.rules("customer").check_text("  ", "customer") == "Enter a customer."
    assert "at most 7" in (schema.rules("customer").check_text("x" * 8, "customer") or "")
    assert schema.rules("quantity").minimum == 1
    assert schema.rules("quantity").check_number(10, "quantity") == "The quantity can be at most 9."
    assert schema.rules("note").max_length == 3
    assert schema.rules("note").check_text("", "note") is None
    assert "customer_prefix" in schema.list_params
