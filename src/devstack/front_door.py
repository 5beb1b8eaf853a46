"""The local front door: one URL (API_PORT) in front of the Lambda and Fargate entries.

It stands for the cloud's front door and ALB: each request goes to the back end the
routing file (devstack.routing, written by `make switch`) picks for it, with the
weight semantics of `DeploymentTarget`. Method, path and query, body, headers (the
client's Host, Idempotency-Key, If-Match ...) go to the back end as they came, and the
back end's status, headers and body (byte for byte, compressed or not) come back
unchanged. Only hop-by-hop headers are dropped, as any proxy does, and one header is
added to the response: `x-devstack-target`, the back end that served it, so a person
(or the drill test) can see a switch happen.

A back end that does not answer is a 502 problem+json naming it, never a hang.

Run as `python -m devstack.front_door --port N --lambda-url ... --fargate-url ...
--routing-file .dev/target.json`.
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import random
import time
from pathlib import Path
from typing import TYPE_CHECKING

import httpx
from starlette.applications import Starlette
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from devstack.loopback_server import log_to_stderr, serve
from devstack.routing import RoutingFile

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Mapping, Sequence

    from starlette.requests import Request

    from devstack.routing import Backend, Routing

log = logging.getLogger("devstack.front_door")

SERVED_BY = "x-devstack-target"
METHODS = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]
# RFC 9110 7.6.1: meaningful for one connection only. content-length is recomputed
# by the HTTP client from the body it sends.
HOP_BY_HOP = frozenset(
    {
        b"connection",
        b"keep-alive",
        b"proxy-authenticate",
        b"proxy-authorization",
        b"proxy-connection",
        b"te",
        b"trailer",
        b"transfer-encoding",
        b"upgrade",
    }
)
# The function's own limit (template.yaml Timeout 30 s) plus room: the back end
# answers a timeout itself.
BACKEND_TIMEOUT = httpx.Timeout(60.0, connect=5.0)


def backend_client(
    base_url: str, transport: httpx.AsyncBaseTransport | None = None
) -> httpx.AsyncClient:
    """A client that adds nothing of its own to the requests it forwards."""
    client = httpx.AsyncClient(
        base_url=base_url,
        timeout=BACKEND_TIMEOUT,
        limits=httpx.Limits(max_connections=100, max_keepalive_connections=20),
        transport=transport,
        follow_redirects=False,
    )
    # httpx's defaults (Accept, Accept-Encoding, User-Agent) would be sent whenever the
    # client did not send its own: the back end must see the client's headers only.
    for name in ("accept", "accept-encoding", "user-agent"):
        del client.headers[name]
    return client


def _problem(status: int, title: str, detail: str, backend: str) -> Response:
    return JSONResponse(
        {
            "type": "urn:devstack:problem:bad-gateway",
            "title": title,
            "status": status,
            "detail": detail,
        },
        status_code=status,
        media_type="application/problem+json",
        headers={SERVED_BY: backend},
    )


class FrontDoor:
    def __init__(
        self,
        routing: RoutingFile,
        clients: Mapping[Backend, httpx.AsyncClient],
        rng: random.Random | None = None,
    ) -> None:
        self.routing = routing
        self.clients = clients
        # A traffic split, not a secret: the standard generator is the right one.
        self.rng = rng or random.Random()  # noqa: S311
        self._announced: Routing | None = None
        self._error: str | None = None

    def _routing(self) -> Routing:
        routing = self.routing.current()
        if routing != self._announced:
            log.info("front door target: %s", routing.describe())
            self._announced = routing
        if self.routing.error != self._error:
            # Once per bad file, not once per request.
            self._error = self.routing.error
            if self._error:
                log.warning("keeping target %s: %s", routing.describe(), self._error)
        return routing

    async def handle(self, request: Request) -> Response:
        backend = self._routing().choose(self.rng)
        client = self.clients[backend]
        scope = request.scope
        target = scope.get("raw_path") or request.url.path.encode()
        if scope.get("query_string"):
            target += b"?" + scope["query_string"]
        headers = [
            (name, value)
            for name, value in request.headers.raw
            if name.lower() not in HOP_BY_HOP and name.lower() != b"content-length"
        ]
        body = await request.body()
        started = time.monotonic()
        outgoing = client.build_request(
            request.method, target.decode("latin-1"), headers=headers, content=body
        )
        try:
            upstream = await client.send(outgoing, stream=True)
            try:
                # Raw: a compressed body stays compressed, as its content-encoding says.
                content = b"".join([chunk async for chunk in upstream.aiter_raw()])
            finally:
                await upstream.aclose()
        except httpx.TransportError as exc:
            log.error(
                "%s %s -> %s failed: %s: %s",
                request.method,
                request.url.path,
                backend,
                type(exc).__name__,
                exc,
            )
            return _problem(
                502,
                "Bad Gateway",
                f"the {backend} entry did not answer ({type(exc).__name__})",
                backend,
            )
        elapsed_ms = (time.monotonic() - started) * 1000
        log.info(
            "%s %s -> %s %d %.1f ms",
            request.method,
            request.url.path,
            backend,
            upstream.status_code,
            elapsed_ms,
        )
        response = Response(content, status_code=upstream.status_code)
        kept = [(n, v) for n, v in upstream.headers.raw if n.lower() not in HOP_BY_HOP]
        if request.method != "HEAD" or not any(n.lower() == b"content-length" for n, _ in kept):
            # The body we hold is the one sent: its length is the one to announce (for
            # HEAD the back end's own length is kept, there is no body to measure).
            kept = [(n, v) for n, v in kept if n.lower() != b"content-length"]
            kept.append((b"content-length", str(len(content)).encode()))
        response.raw_headers = [*kept, (SERVED_BY.encode(), backend.encode())]
        return response


def create_app(door: FrontDoor) -> Starlette:
    @contextlib.asynccontextmanager
    async def lifespan(_app: Starlette) -> AsyncIterator[None]:
        try:
            yield
        finally:
            for client in door.clients.values():
                await client.aclose()

    return Starlette(
        routes=[Route("/{path:path}", door.handle, methods=METHODS)], lifespan=lifespan
    )


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m devstack.front_door", description=__doc__)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--lambda-url", required=True)
    parser.add_argument("--fargate-url", required=True)
    parser.add_argument("--routing-file", type=Path, required=True)
    args = parser.parse_args(argv)
    log_to_stderr()
    # One line per request is ours (with the entry that served it); httpx would add a second.
    logging.getLogger("httpx").setLevel(logging.WARNING)
    door = FrontDoor(
        RoutingFile(args.routing_file),
        {"lambda": backend_client(args.lambda_url), "fargate": backend_client(args.fargate_url)},
    )
    # The back ends' own Date and Server headers pass through; uvicorn must not add a second.
    serve(create_app(door), args.port, date_header=False)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
