"""The UI's view of each response is the API's published schema, field for field.

The UI image ships without src/orders (it is a client of the HTTP API, not of the
service's code), so src/ui/client.py declares the responses it reads a second time,
tolerant of fields it does not know. This ties the two: every field the UI reads is in
the API's OpenAPI schema, required where the UI requires it, so a renamed or dropped
field fails here instead of in a browser.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest
from fastapi.testclient import TestClient

from orders.app import create_app
from tests import tokens
from tests.fakes import Fakes
from ui import client

# The UI's type -> the API's schema it reads (by the name FastAPI publishes).
PAIRS = [
    (client.Order, "OrderPublic"),
    (client.Attachment, "AttachmentPublic"),
    (client.Event, "EventPublic"),
    (client.Readiness, "Readiness"),
]


@pytest.fixture(scope="module")
def schemas() -> dict[str, Any]:
    api = TestClient(
        create_app(Fakes().container(), trace_requests=False), headers=tokens.bearer("operator")
    )
    return dict(api.get("/api/openapi.json").json()["components"]["schemas"])


@pytest.mark.parametrize(("ui_type", "schema_name"), PAIRS, ids=[name for _, name in PAIRS])
def test_every_field_the_ui_reads_is_published(
    schemas: dict[str, Any], ui_type: type, schema_name: str
) -> None:
    schema = schemas[schema_name]
    published = set(schema["properties"])
    read = {f.name for f in dataclasses.fields(ui_type)}
    assert read, f"{ui_type.__name__} reads no field: not a dataclass of the response?"
    assert read - published == set(), f"{ui_type.__name__} reads fields {schema_name} lacks"


@pytest.mark.parametrize(("ui_type", "schema_name"), PAIRS, ids=[name for _, name in PAIRS])
def test_what_the_ui_requires_the_api_always_sends(
    schemas: dict[str, Any], ui_type: type, schema_name: str
) -> None:
    """A UI field without a default is read with data[name]: the API must require it."""
    required = set(schemas[schema_name].get("required", ()))
    needed = {
        f.name
        for f in dataclasses.fields(ui_type)
        if f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING
    }
    assert needed - required == set()


def test_the_upload_target_is_read_from_the_published_upload(schemas: dict[str, Any]) -> None:
    """UploadTarget flattens AttachmentUploadPublic's `upload` (url, fields) into itself."""
    outer = set(schemas["AttachmentUploadPublic"]["properties"])
    inner = set(schemas["PresignedPost"]["properties"])
    read = {f.name for f in dataclasses.fields(client.UploadTarget)}
    assert read <= outer | inner
    assert {"url", "fields"} <= inner
    assert "upload" in outer
