"""X-Ray for the app in the container (Fargate): one segment per request, to the daemon sidecar.

Powertools Tracer switches itself off outside Lambda, so here the X-Ray SDK is used
directly, with the same service name. Two things differ from the SDK's defaults:

- The SDK keeps the current segment in a thread-local, but our data routes run on
  Starlette's thread pool, away from the event loop where the request began. Here
  the segment lives in a ContextVar, which asyncio and anyio copy into the worker
  thread, so boto3 calls there land as subsegments of their own request.
- The SDK is imported only when tracing is on (it builds a client at import).

The SDK reads AWS_XRAY_DAEMON_ADDRESS itself (the sidecar's address).
"""

from __future__ import annotations

from contextvars import ContextVar
from typing import TYPE_CHECKING, Any

from orders.observability import SERVICE

if TYPE_CHECKING:
    from starlette.types import Scope

_state: ContextVar[dict[str, Any]] = ContextVar("orders_xray_state")


class _ContextLocal:
    """A threading.local look-alike whose attributes belong to the request's context."""

    def __getattr__(self, name: str) -> Any:
        try:
            return _state.get()[name]
        except (LookupError, KeyError):
            raise AttributeError(name) from None

    def __setattr__(self, name: str, value: Any) -> None:
        # A new dict: a request never writes into the dict another context holds.
        _state.set({**_state.get({}), name: value})


class RequestTracing:
    """Begins and ends one X-Ray segment per HTTP request."""

    def __init__(self, emitter: Any | None = None) -> None:
        from aws_xray_sdk.core import patch, xray_recorder
        from aws_xray_sdk.core.context import Context

        class RequestContext(Context):  # type: ignore[misc]
            def __init__(self) -> None:
                super().__init__(context_missing="LOG_ERROR")
                self._local = _ContextLocal()

            def clear_trace_entities(self) -> None:
                _state.set({})

        options: dict[str, Any] = {
            "service": SERVICE,
            "context": RequestContext(),
            "context_missing": "LOG_ERROR",
        }
        if emitter is not None:
            options["emitter"] = emitter
        xray_recorder.configure(**options)
        patch(["botocore"])
        self._recorder = xray_recorder

    def begin(self, scope: Scope) -> Any:
        from aws_xray_sdk.core.models import http
        from aws_xray_sdk.core.models.trace_header import TraceHeader
        from aws_xray_sdk.ext.util import calculate_sampling_decision

        # ASGI header names are lower case; the SDK's helper looks for "X-Amzn-Trace-Id".
        headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in scope.get("headers", [])}
        incoming = headers.get("x-amzn-trace-id")
        trace_header = TraceHeader.from_header_str(incoming) if incoming else TraceHeader()
        sampling = calculate_sampling_decision(
            trace_header=trace_header,
            recorder=self._recorder,
            sampling_req={
                "host": headers.get("host", ""),
                "method": scope["method"],
                "path": scope["path"],
                "service": SERVICE,
            },
        )
        segment = self._recorder.begin_segment(
            name=SERVICE,
            traceid=trace_header.root,
            parent_id=trace_header.parent,
            sampling=sampling,
        )
        segment.put_http_meta(http.METHOD, scope["method"])
        segment.put_http_meta(http.URL, scope["path"])
        return segment

    def end(self, segment: Any, status: int) -> None:
        from aws_xray_sdk.core.models import http

        segment.put_http_meta(http.STATUS, status)
        if status == 429:
            segment.add_throttle_flag()
        if status >= 500:
            segment.add_fault_flag()
        elif status >= 400:
            segment.add_error_flag()
        self._recorder.end_segment()
