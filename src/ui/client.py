"""A small typed client for the orders API, shaped for the UI.

Every failure reaches the caller as one of two exceptions:

- `ApiUnavailable`: no answer at all (refused, timed out, DNS); the UI says the API is down.
- `ApiError`: the API answered with an error; RFC 9457 problem+json is read into
  `status`, `type`, `title` and `detail`, anything else keeps the status and a short text.

Uploads go straight to the presigned S3 POST the API hands out, never through the API;
S3 answers in XML, so its refusals are `UploadRejected`.
"""

from __future__ import annotations

import copy
import math
import re
import time
from collections.abc import Sequence  # noqa: TC003 (pydantic reads field types at runtime)
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import TYPE_CHECKING, Any, TypeVar

import httpx
from pydantic import BaseModel, ConfigDict, ValidationError, model_validator

from orders.api.models import (
    AttachmentList,
    AttachmentPublic,
    AttachmentUploadPublic,
    EventList,
    EventPublic,
    OrderList,
    OrderPublic,
    PresignedPost,
)
from orders.api.models import Readiness as PublishedReadiness

if TYPE_CHECKING:
    from collections.abc import Mapping

PROBLEM_PREFIX = "urn:orders:problem:"
_S3_ERROR = re.compile(r"<Code>([^<]*)</Code>.*?<Message>([^<]*)</Message>", re.DOTALL)


class ApiUnavailable(Exception):
    """The API did not answer: connection refused, timeout, name resolution."""

    def __init__(self, url: str, reason: str) -> None:
        super().__init__(f"{url}: {reason}")
        self.url = url
        self.reason = reason


class ApiError(Exception):
    """The API answered with an error status; problem+json fields when it sent them."""

    def __init__(
        self,
        status: int,
        *,
        type: str = "about:blank",
        title: str = "",
        detail: str = "",
        body: Mapping[str, Any] | None = None,
        retry_after: int | None = None,
    ) -> None:
        super().__init__(f"{status} {type}: {detail or title}")
        self.status = status
        self.type = type
        self.title = title
        self.detail = detail
        self.body: Mapping[str, Any] = body or {}
        # Seconds to wait before trying again, from a Retry-After header (429, 503).
        self.retry_after = retry_after

    @property
    def kind(self) -> str:
        """The problem's slug, e.g. 'version-conflict' for urn:orders:problem:version-conflict."""
        return self.type.removeprefix(PROBLEM_PREFIX)

    @property
    def is_conflict(self) -> bool:
        return self.status == 409

    @property
    def field_errors(self) -> dict[str, str]:
        """A 422's `errors` list as {field: message} (the API names each bad field)."""
        found: dict[str, str] = {}
        for item in self.body.get("errors", ()) or ():
            if isinstance(item, dict) and "field" in item:
                found.setdefault(str(item["field"]), str(item.get("message", "invalid")))
        return found


class UploadRejected(Exception):
    """S3 refused the presigned POST (too big, wrong type, expired, ...)."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(f"{status} {code}: {message}")
        self.status = status
        self.code = code
        self.message = message


# The responses are read with the API's own models (orders.api.models: one source for the
# wire shape), each subclassed here with extra="ignore". During a rolling deploy a newer API
# may send a field this UI does not know yet: it must be skipped, not refused. The API's
# models ignore unknown fields today only by pydantic's default; saying it here keeps the UI
# tolerant whatever they later choose (tests/ui/test_client_contract.py holds it). Frozen:
# values the views pass around, never edit.
_TOLERANT = ConfigDict(extra="ignore", frozen=True)
_Answer = TypeVar("_Answer", bound=BaseModel)


class Order(OrderPublic):
    model_config = _TOLERANT


class OrderPage(OrderList):
    model_config = _TOLERANT

    items: Sequence[Order]

    @model_validator(mode="before")
    @classmethod
    def _more_from_cursor(cls, data: Any) -> Any:
        """An API from before `has_more` says it by the cursor alone: a next page if one."""
        if isinstance(data, dict) and "has_more" not in data:
            return {**data, "has_more": data.get("next_cursor") is not None}
        return data


class Attachment(AttachmentPublic):
    model_config = _TOLERANT


class PresignedUpload(PresignedPost):
    model_config = _TOLERANT


class UploadTarget(AttachmentUploadPublic):
    """Where and how to POST one file: the presigned URL and the form fields S3 checks."""

    model_config = _TOLERANT

    upload: PresignedUpload


class _Attachments(AttachmentList):
    model_config = _TOLERANT

    items: Sequence[Attachment]


class Created(BaseModel):
    """A create's order, and whether the API replayed an earlier one (Idempotent-Replayed)."""

    model_config = ConfigDict(frozen=True)

    order: Order
    replayed: bool


class Event(EventPublic):
    model_config = _TOLERANT

    @model_validator(mode="before")
    @classmethod
    def _from_an_older_api(cls, data: Any) -> Any:
        """An API from before `at`, the statuses and `actor` sends none of them: the event
        happened when it occurred; what changed and who did it are unknown (the view then
        reads the change from the event's detail)."""
        if isinstance(data, dict):
            unknown = {"from_status": None, "to_status": None, "actor": None}
            return {**unknown, "at": data.get("occurred_at"), **data}
        return data

    @property
    def published(self) -> bool:
        return self.published_at is not None


class _Events(EventList):
    model_config = _TOLERANT

    items: Sequence[Event]


class Readiness(PublishedReadiness):
    """/api/ready: 'ok', or which dependencies fail and why."""

    model_config = _TOLERANT

    @property
    def ok(self) -> bool:
        return self.status == "ok"

    @property
    def failing(self) -> dict[str, str]:
        return {name: state for name, state in self.checks.items() if state != "ok"}


class OrdersClient:
    """The orders API over HTTP. One instance per process; it keeps a connection pool."""

    def __init__(
        self,
        base_url: str,
        *,
        timeout: float = 5.0,
        transport: httpx.BaseTransport | None = None,
        storage_transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.timeout_seconds = timeout
        self._http = httpx.Client(
            base_url=f"{self.base_url}/api",
            timeout=httpx.Timeout(timeout, connect=min(timeout, 2.0)),
            headers={"Accept": "application/json, application/problem+json"},
            transport=transport,
        )
        self._token: str | None = None
        # Uploads and downloads go to S3, not the API: no base URL, a longer read timeout.
        self._storage = httpx.Client(
            timeout=httpx.Timeout(max(timeout, 30.0), connect=5.0), transport=storage_transport
        )

    def close(self) -> None:
        self._http.close()
        self._storage.close()

    def authorized(self, access_token: str | None) -> OrdersClient:
        """This client for one signed-in person: the same connection pools, their token.

        The pools are shared by every session of the process; the token is not: each
        script run binds its own session's token to a shallow copy.
        """
        bound = copy.copy(self)
        bound._token = access_token
        return bound

    # -- meta -------------------------------------------------------------------------

    def health(self) -> str:
        """Liveness: 'ok' when the process answers."""
        return str(self._json("GET", "/health")["status"])

    def ready(self) -> Readiness:
        """Readiness of each dependency. A 503 is an answer here, not an error."""
        response = self._send("GET", "/ready")
        if response.status_code not in (200, 503):
            raise _error(response)
        body = _body(response)
        if not isinstance(body, dict) or "checks" not in body:
            raise _error(response)  # not the API's answer: a proxy's page, say
        return _valid(Readiness, body, response.status_code)

    def openapi(self) -> dict[str, Any]:
        """The API's OpenAPI document: its statuses and field limits, so the UI never
        disagrees with it (see ui.schema)."""
        return self._json("GET", "/openapi.json")

    def statuses(self) -> list[str]:
        """The order statuses, in lifecycle order, as the API's OpenAPI document names them."""
        schema = self.openapi()
        enum = schema.get("components", {}).get("schemas", {}).get("OrderStatus", {}).get("enum")
        return [str(s) for s in enum] if isinstance(enum, list) else []

    # -- orders -----------------------------------------------------------------------

    def list_orders(
        self,
        *,
        status: str | None = None,
        customer: str | None = None,
        customer_prefix: str | None = None,
        sort: str | None = None,
        limit: int = 20,
        cursor: str | None = None,
    ) -> OrderPage:
        params: dict[str, str | int] = {"limit": limit}
        if status:
            params["status"] = status
        if customer:
            params["customer"] = customer
        if customer_prefix:
            params["customer_prefix"] = customer_prefix
        if sort:
            params["sort"] = sort
        if cursor:
            params["cursor"] = cursor
        return self._answer(OrderPage, "GET", "/orders", params=params)

    def get_order(self, order_id: str) -> Order:
        return self._answer(Order, "GET", f"/orders/{order_id}")

    def create_order(
        self,
        *,
        customer: str,
        product: str,
        quantity: int,
        note: str | None = None,
        idempotency_key: str,
        in_progress_wait: float = 2.0,
    ) -> Created:
        """Create an order; the same key and body again returns the same order (replayed).

        While a request with the same key is still running (a double click), the API
        answers 409 idempotency-in-progress: wait for it, up to `in_progress_wait`
        seconds, and return its order instead of an error.
        """
        payload: dict[str, Any] = {"customer": customer, "product": product, "quantity": quantity}
        if note:
            payload["note"] = note
        deadline = time.monotonic() + in_progress_wait
        pause = 0.1
        while True:
            response = self._send(
                "POST", "/orders", json=payload, headers={"Idempotency-Key": idempotency_key}
            )
            if response.status_code == 201:
                return Created(
                    order=_read(Order, response),
                    replayed=response.headers.get("Idempotent-Replayed") == "true",
                )
            error = _error(response)
            if error.kind != "idempotency-in-progress" or time.monotonic() + pause > deadline:
                raise error
            time.sleep(pause)
            pause *= 2

    def change_status(self, order_id: str, *, status: str, version: int) -> Order:
        """Move the order on from the version the caller read; 409 if it changed since."""
        body = {"status": status, "version": version}
        return self._answer(Order, "PUT", f"/orders/{order_id}/status", json=body)

    def cancel(self, order_id: str, *, version: int) -> Order:
        body = {"version": version}
        return self._answer(Order, "POST", f"/orders/{order_id}/cancel", json=body)

    def events(self, order_id: str) -> list[Event]:
        return list(self._answer(_Events, "GET", f"/orders/{order_id}/events").items)

    # -- attachments ------------------------------------------------------------------

    def attachments(self, order_id: str) -> list[Attachment]:
        return list(self._answer(_Attachments, "GET", f"/orders/{order_id}/attachments").items)

    def request_upload(
        self, order_id: str, *, filename: str, content_type: str, size: int
    ) -> UploadTarget:
        return self._answer(
            UploadTarget,
            "POST",
            f"/orders/{order_id}/attachments",
            json={"filename": filename, "content_type": content_type, "size": size},
        )

    def upload(self, target: UploadTarget, *, filename: str, content: bytes) -> None:
        """POST the file to S3 with the presigned fields (httpx sends fields before the file,
        as S3 requires)."""
        content_type = target.upload.fields.get("Content-Type", "application/octet-stream")
        try:
            response = self._storage.post(
                target.upload.url,
                data=target.upload.fields,
                files={"file": (filename, content, content_type)},
            )
        except httpx.HTTPError as exc:
            raise ApiUnavailable(target.upload.url, _reason(exc)) from exc
        if response.status_code >= 300:
            match = _S3_ERROR.search(response.text)
            code, message = match.groups() if match else ("Error", response.text[:200])
            raise UploadRejected(response.status_code, code, message)

    def upload_attachment(
        self, order_id: str, *, filename: str, content_type: str, content: bytes
    ) -> str:
        """Ask the API for a presigned POST, then send the file to S3. Returns the attachment id."""
        target = self.request_upload(
            order_id, filename=filename, content_type=content_type, size=len(content)
        )
        self.upload(target, filename=filename, content=content)
        return target.attachment_id

    # -- plumbing ---------------------------------------------------------------------

    def _send(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        if self._token:
            kwargs["headers"] = {
                **kwargs.get("headers", {}),
                "Authorization": f"Bearer {self._token}",
            }
        try:
            return self._http.request(method, path, **kwargs)
        except httpx.HTTPError as exc:
            raise ApiUnavailable(self.base_url, _reason(exc)) from exc

    def _answer(self, model: type[_Answer], method: str, path: str, **kwargs: Any) -> _Answer:
        response = self._send(method, path, **kwargs)
        if response.is_error:
            raise _error(response)
        return _read(model, response)

    def _json(self, method: str, path: str, **kwargs: Any) -> dict[str, Any]:
        response = self._send(method, path, **kwargs)
        if response.is_error:
            raise _error(response)
        body = _body(response)
        if not isinstance(body, dict):
            raise ApiError(response.status_code, title="Unexpected response", detail="not JSON")
        return body


def _body(response: httpx.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        return None


def _read(model: type[_Answer], response: httpx.Response) -> _Answer:
    """The answer's body as `model`."""
    return _valid(model, _body(response), response.status_code)


def _valid(model: type[_Answer], body: Any, status: int) -> _Answer:
    """A decoded body as `model`. A body that is not one (an API that broke its own
    contract) is an ApiError naming the first field that is wrong, never a traceback."""
    try:
        return model.model_validate(body)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(part) for part in first["loc"]) or "body"
        raise ApiError(
            status,
            title="Unexpected response",
            detail=f"{model.__name__}: {where}: {first['msg']}",
        ) from exc


def _error(response: httpx.Response) -> ApiError:
    body = _body(response)
    retry_after = _retry_after(response.headers.get("Retry-After"))
    if isinstance(body, dict) and "status" in body and ("type" in body or "detail" in body):
        return ApiError(
            response.status_code,
            type=str(body.get("type", "about:blank")),
            title=str(body.get("title", "")),
            detail=str(body.get("detail", "")),
            body=body,
            retry_after=retry_after,
        )
    # Not problem+json: a proxy or load balancer answered. Keep it short; never a page of HTML.
    text = " ".join(response.text.split())[:200]
    return ApiError(
        response.status_code,
        title=response.reason_phrase,
        detail=text or response.reason_phrase,
        retry_after=retry_after,
    )


def _retry_after(value: str | None) -> int | None:
    """Retry-After in whole seconds (RFC 9110: delay-seconds or an HTTP-date); None if absent."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return int(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:  # an HTTP-date is always GMT
        when = when.replace(tzinfo=UTC)
    return max(0, math.ceil((when - datetime.now(UTC)).total_seconds()))


def _reason(exc: httpx.HTTPError) -> str:
    if isinstance(exc, httpx.TimeoutException):
        return "timed out"
    if isinstance(exc, httpx.ConnectError):
        return "connection refused or host unreachable"
    return type(exc).__name__
