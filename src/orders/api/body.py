"""The request policy, before any route reads a byte: headers bounded, bodies JSON only and
bounded in size and time.

Pure ASGI, so it works the same under uvicorn (the body streams in) and Mangum (the
body is already in memory, and a too-large one is still refused with a 413):

- headers over `max_header_bytes` in all are a 431 for every method (uvicorn's default
  parser, httptools, has no such bound; under h11 or behind a front door a smaller one
  may refuse them first);
- a body whose Content-Length is over `max_bytes` is a 413 without reading it; a body
  without one (chunked, or a Lambda event) is counted as it arrives, a 413 at the limit;
- a body that stops arriving is a 408 after `timeout_seconds` for the whole body, so a
  slow client cannot hold a connection (and a worker's memory) indefinitely;
- a body with a Content-Type other than JSON is a 415 naming application/json; one with
  no Content-Type is read as JSON (FastAPI's strict_content_type is off for that).

The body is read here, within those bounds, and handed to the app as one message: the
routes would read it whole anyway, and the bound is what makes that safe.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

from orders.api.problems import problem

if TYPE_CHECKING:
    from starlette.types import ASGIApp, Message, Receive, Scope, Send

JSON = "application/json"
# Methods whose requests carry the bodies the routes read.
_WITH_BODY = frozenset({"POST", "PUT", "PATCH"})


def is_json(content_type: str) -> bool:
    """application/json or any application/<x>+json, with or without parameters."""
    media = content_type.split(";", 1)[0].strip().lower()
    return media == JSON or (media.startswith("application/") and media.endswith("+json"))


class _TooLarge(Exception):
    pass


class RequestBodyMiddleware:
    def __init__(
        self,
        app: ASGIApp,
        *,
        max_bytes: int,
        timeout_seconds: float,
        max_header_bytes: int,
    ) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.timeout_seconds = timeout_seconds
        self.max_header_bytes = max_header_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        # Name, value and the ": " and CRLF around them, as on the wire.
        header_bytes = sum(len(k) + len(v) + 4 for k, v in scope.get("headers") or [])
        if header_bytes > self.max_header_bytes:
            await self._refuse(scope, receive, send, 431)
            return
        if scope["method"] not in _WITH_BODY:
            await self.app(scope, receive, send)
            return
        headers = {k.lower(): v for k, v in scope.get("headers") or []}
        content_type = headers.get(b"content-type", b"").decode("latin-1")
        declared = _content_length(headers.get(b"content-length"))
        wrong_type = bool(content_type) and not is_json(content_type)
        if declared is not None and declared > self.max_bytes:
            await self._refuse(scope, receive, send, 413)
            return
        if wrong_type and declared:
            await self._refuse(scope, receive, send, 415, content_type=content_type)
            return
        try:
            async with asyncio.timeout(self.timeout_seconds):
                body, disconnected = await self._read(receive)
        except _TooLarge:
            await self._refuse(scope, receive, send, 413)
            return
        except TimeoutError:
            await self._refuse(scope, receive, send, 408)
            return
        if disconnected:
            return  # the client left; there is no one to answer
        if wrong_type and body:
            await self._refuse(scope, receive, send, 415, content_type=content_type)
            return
        await self.app(scope, _replay(body, receive), send)

    async def _read(self, receive: Receive) -> tuple[bytes, bool]:
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return b"", True
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_bytes:
                raise _TooLarge
            chunks.append(chunk)
            if not message.get("more_body", False):
                return b"".join(chunks), False

    async def _refuse(
        self, scope: Scope, receive: Receive, send: Send, status: int, content_type: str = ""
    ) -> None:
        extra: dict[str, object] = {}
        if status == 408:
            slug = "request-timeout"
            detail = f"the request body did not arrive within {self.timeout_seconds:g} s"
        elif status == 431:
            slug = "request-header-fields-too-large"
            detail = f"the request headers are over the limit of {self.max_header_bytes} bytes"
            extra = {"max_header_bytes": self.max_header_bytes}
        elif status == 413:
            slug = "payload-too-large"
            detail = f"the request body is over the limit of {self.max_bytes} bytes"
            extra = {"max_bytes": self.max_bytes}
        else:
            slug = "unsupported-media-type"
            detail = f"the request body must be {JSON}, not {content_type[:100]}"
            extra = {"expected": JSON}
        # The rest of the body is unread: the connection cannot carry another request.
        response = problem(
            status,
            slug,
            detail,
            instance=scope.get("path"),
            headers={"Connection": "close"},
            **extra,
        )
        await response(scope, receive, send)


def _content_length(value: bytes | None) -> int | None:
    if value is None:
        return None
    try:
        return int(value)
    except ValueError:
        return None


def _replay(body: bytes, receive: Receive) -> Receive:
    """The body as one message, then whatever the server sends next (a disconnect)."""
    given = False

    async def replay() -> Message:
        nonlocal given
        if not given:
            given = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replay
