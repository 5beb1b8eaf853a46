"""Read the sample events as HTTP requests, and Lambda answers as HTTP responses.

The decoding here is written from AWS's payload documentation, not from Mangum's
code, so a Mangum change in how it reads an event shows up as a difference.
"""

from __future__ import annotations

import base64
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from tests import tokens

EVENTS_DIR = Path(__file__).resolve().parents[2] / "events"
API_SHAPES = ("apigw-v2", "apigw-v1", "alb")
API_EVENT_FILES = sorted(p for shape in API_SHAPES for p in (EVENTS_DIR / shape).glob("*.json"))

# What a write makes anew on each run: ids, clocks, and presigned POST fields (their
# policy and signature carry the time). Reads are compared whole, but for the
# signature query of presigned download URLs, which carries the second it was made.
VOLATILE_FIELDS = frozenset({"id", "created_at", "updated_at", "attachment_id", "key", "fields"})
_PRESIGNED_QUERY = re.compile(r"\?.*$")
_NEW_ORDER_LOCATION = re.compile(r"/api/orders/[0-9a-f]{32}$")
MASK = "<volatile>"


def event_id(path: Path) -> str:
    """Test id of an event file: <shape>/<name>."""
    return f"{path.parent.name}/{path.stem}"


# What events/generate.py writes where a sample's Authorization header carries a token.
ACCESS_TOKEN_PLACEHOLDER = "__ACCESS_TOKEN__"


def load_event(path: Path, *, token: str | None = None) -> dict[str, Any]:
    """A sample event with a test access token in place of the placeholder.

    token: the bearer token to send; by default one minted for the operator (who may do
    what every sample asks). The authorizer context in the samples stays as it is: the
    app never reads it.
    """
    text = path.read_text()
    if ACCESS_TOKEN_PLACEHOLDER in text:
        text = text.replace(ACCESS_TOKEN_PLACEHOLDER, token or tokens.mint("operator"))
    event: dict[str, Any] = json.loads(text)
    return event


@dataclass(frozen=True, slots=True)
class HttpRequest:
    """What the client sent, as a direct HTTP call to the app would carry it."""

    method: str
    path: str  # the public path, with any stage prefix
    query: str
    headers: dict[str, str]
    body: bytes
    root_path: str  # the prefix a proxy in front of the app would strip ("" or "/prod")


@dataclass(frozen=True, slots=True)
class HttpResponse:
    status: int
    headers: dict[str, str]  # lowercased names
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


def _body(event: dict[str, Any]) -> bytes:
    body = event.get("body") or ""
    return base64.b64decode(body) if event.get("isBase64Encoded") else body.encode()


def request_from_event(event: dict[str, Any]) -> HttpRequest:
    """The HTTP request an API Gateway (v1, v2) or ALB event stands for."""
    context = event.get("requestContext", {})
    if event.get("version") == "2.0":
        headers = dict(event.get("headers") or {})
        if event.get("cookies"):
            headers["cookie"] = "; ".join(event["cookies"])
        return HttpRequest(
            method=context["http"]["method"],
            path=event["rawPath"],
            query=event.get("rawQueryString", ""),
            headers=headers,
            body=_body(event),
            root_path="",
        )
    if "elb" in context:
        return HttpRequest(
            method=event["httpMethod"],
            path=event["path"],
            query=urlencode(event.get("queryStringParameters") or {}),
            headers=dict(event.get("headers") or {}),
            body=_body(event),
            root_path="",
        )
    # REST API: requestContext.path is the public path (/<stage>/...), path is without it.
    public_path: str = context["path"]
    root_path = public_path.removesuffix(event["path"])
    multi = event.get("multiValueHeaders") or {}
    headers = {k: ", ".join(v) for k, v in multi.items()} or dict(event.get("headers") or {})
    query = urlencode(event.get("multiValueQueryStringParameters") or {}, doseq=True)
    return HttpRequest(
        method=event["httpMethod"],
        path=public_path,
        query=query,
        headers=headers,
        body=_body(event),
        root_path=root_path,
    )


def response_from_lambda(result: dict[str, Any]) -> HttpResponse:
    """The HTTP response API Gateway or the ALB makes of a Lambda result."""
    headers = {k.lower(): v for k, v in (result.get("headers") or {}).items()}
    for name, values in (result.get("multiValueHeaders") or {}).items():
        headers[name.lower()] = ", ".join(values)
    body = result.get("body") or ""
    raw = base64.b64decode(body) if result.get("isBase64Encoded") else body.encode()
    return HttpResponse(status=int(result["statusCode"]), headers=headers, body=raw)


def _mask(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: MASK if k in VOLATILE_FIELDS else _mask(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_mask(v) for v in value]
    return value


def comparable_body(response: HttpResponse, *, method: str) -> Any:
    """The body as text (HTML: the docs page) or JSON with what differs by design masked.

    After a write (not GET): new order ids and timestamps, attachment ids and keys,
    presigned POST fields. Always: the signature query of presigned download URLs.
    """
    if not response.body:
        return None
    if "json" not in response.headers.get("content-type", ""):
        return response.body.decode()
    masked = response.json() if method == "GET" else _mask(response.json())
    for item in masked.get("items", []) if isinstance(masked, dict) else []:
        if isinstance(item, dict) and "download_url" in item:
            item["download_url"] = _PRESIGNED_QUERY.sub("?" + MASK, item["download_url"])
    return masked


def comparable_location(response: HttpResponse) -> str | None:
    """Location with the new order's id masked (each run creates its own order)."""
    location = response.headers.get("location")
    if location is None:
        return None
    return _NEW_ORDER_LOCATION.sub("/api/orders/" + MASK, location)
