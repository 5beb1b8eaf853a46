"""Property-based run over the OpenAPI document, in-process: no 5xx, no undocumented status.

Positive and negative (schema-violating) inputs for every operation, at least 1000
cases in all. Runs against moto, so the data paths are real.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
import schemathesis
from fastapi import FastAPI
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import (
    content_type_conformance,
    negative_data_rejection,
    not_a_server_error,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)
from schemathesis.config import HttpBearerAuthConfig
from schemathesis.core.result import Err

from tests import tokens

# An operator's token (every operation is allowed, so the fuzz reaches the data paths),
# given to schemathesis as the credentials of the document's `bearer` scheme: it sends it
# on every case but those whose point is a missing Authorization header (then a 401).
OPERATOR_TOKEN = tokens.mint("operator")
MIN_CASES = 1000
PER_OPERATION_AND_MODE = 75
SCHEMA_REFUSALS = {"urn:orders:problem:validation-error", "urn:orders:problem:malformed-json"}


def valid_data_is_never_refused_as_invalid(
    ctx: schemathesis.CheckContext, response: schemathesis.Response, case: schemathesis.Case[Any]
) -> None:
    """A request the document calls valid may fail a rule (a reused key, a stale version),
    never the document's own validation: no `If-Match: null` or `1.0` refused as malformed."""
    if case.meta is None or not case.meta.generation.mode.is_positive:
        return
    if response.status_code in (400, 422):
        kind = response.json().get("type")
        assert kind not in SCHEMA_REFUSALS, f"valid request refused: {response.text}"


CHECKS = [
    valid_data_is_never_refused_as_invalid,
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    response_headers_conformance,
    negative_data_rejection,
]


@pytest.fixture
def app(aws: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> FastAPI:
    """The app with per-caller throttling off: the fuzzer is one caller sending ~1800 requests
    in two minutes, and past 600 a minute every case would be a 429 that tests nothing."""
    from orders.app import create_app
    from orders.settings import get_settings

    monkeypatch.setenv("ORDERS_RATE_LIMIT_PER_MINUTE", "0")
    get_settings.cache_clear()
    return create_app()


def test_openapi_fuzz_finds_no_5xx_and_no_undocumented_status(app: FastAPI) -> None:
    schema = schemathesis.openapi.from_asgi("/api/openapi.json", app)
    schema.config.auth.openapi.schemes["bearer"] = HttpBearerAuthConfig(bearer=OPERATOR_TOKEN)
    cases = 0
    operations = 0
    for result in schema.get_all_operations():
        if isinstance(result, Err):
            raise result.err()
        operation = result.ok()
        operations += 1
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):

            @settings(
                max_examples=PER_OPERATION_AND_MODE,
                deadline=None,
                database=None,
                derandomize=True,
                suppress_health_check=list(HealthCheck),
            )
            @given(case=operation.as_strategy(generation_mode=mode))
            def check(case: schemathesis.Case[Any]) -> None:
                nonlocal cases
                cases += 1
                case.call_and_validate(checks=CHECKS)

            try:
                check()
            except Unsatisfiable:
                # An operation with no parameters or body has no invalid input to send.
                assert mode is GenerationMode.NEGATIVE, operation.label
    assert operations >= 11
    assert cases >= MIN_CASES, f"only {cases} cases ran"


# What the fuzz found: a blank customer ("\u000b") the document allowed and the API refused.
# Every character Python calls whitespace, and a few it does not, against both.
BLANKS = sorted({chr(c) for c in range(0x3001) if chr(c).isspace()})
NOT_BLANK = ["x", "\u200b", "\ufeff", "\x00"]


@pytest.mark.parametrize("field", ["customer", "product"])
def test_the_published_pattern_refuses_exactly_the_blank_values_the_api_refuses(
    client: TestClient, field: str
) -> None:
    document = client.get("/api/openapi.json").json()
    prop = document["components"]["schemas"]["OrderCreate"]["properties"][field]
    [string] = [s for s in prop.get("anyOf", [prop]) if s.get("type") == "string"]
    pattern = re.compile(string["pattern"])
    base = {"customer": "acme", "product": "widget", "quantity": 1}
    assert len(BLANKS) == 29  # str.isspace's whole set (none above U+3000)

    for value in [*BLANKS, *NOT_BLANK, " x ", "\u3000\t"]:
        allowed = pattern.search(value) is not None
        response = client.post("/api/orders", json={**base, field: value})
        assert response.status_code == (201 if allowed else 422), (repr(value), response.text)
        if allowed:
            assert response.json()[field] == value.strip()
        else:
            assert response.json()["errors"][0]["field"] == field
