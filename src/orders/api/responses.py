"""OpenAPI descriptions of problem responses, so the document lists every status we send."""

from __future__ import annotations

from http import HTTPStatus
from typing import Any

from orders.api.problems import MEDIA_TYPE

PROBLEM_REF = {"$ref": "#/components/schemas/Problem"}


def problem_responses(*codes: int) -> dict[int | str, dict[str, Any]]:
    return {
        code: {
            "description": HTTPStatus(code).phrase,
            "content": {MEDIA_TYPE: {"schema": PROBLEM_REF}},
        }
        for code in codes
    }


# Any route can fail validation, meet an unexpected error, or lose a dependency; any
# request with a body can be too slow (408), too large (413) or not JSON (415).
COMMON = problem_responses(400, 408, 413, 415, 422, 500, 503)
