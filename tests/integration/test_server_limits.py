"""Limits under the container's server (granian) and the alternative (uvicorn), over raw
sockets: a client that lies about or drips its body, or sends huge headers, is answered and
disconnected instead of holding memory and a slot."""

from __future__ import annotations

import contextlib
import os
import socket
import time
from contextlib import contextmanager
from typing import TYPE_CHECKING

import httpx
import pytest

from tests.integration.servers import SERVERS, running
from tests.support import service_env

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

# The header bound the API container should run with (see the README's Limits).
HEADER_LIMIT_ENV = {"UVICORN_HTTP": "h11", "UVICORN_H11_MAX_INCOMPLETE_EVENT_SIZE": "16384"}


@contextmanager
def server(tmp_path: Path, kind: str = "granian", **extra_env: str) -> Iterator[int]:
    """A server of `kind` on loopback; AWS is never called by these requests."""
    env = {
        **{
            k: v
            for k, v in os.environ.items()
            if not k.startswith(("UVICORN_", "GRANIAN_", "ORDERS_"))
        },
        **service_env("alias/orders-test"),
        "ORDERS_BODY_TIMEOUT_SECONDS": "1",
        **extra_env,
    }
    env.pop("AWS_ENDPOINT_URL", None)
    with running(kind, tmp_path / f"{kind}.log", env) as (port, _):
        yield port


def exchange(port: int, data: bytes, *, wait: float = 10.0) -> tuple[bytes, float, bool]:
    """Send `data`, read until the server closes: (response, seconds taken, closed by server)."""
    started = time.monotonic()
    with socket.create_connection(("127.0.0.1", port), timeout=wait) as conn:
        # The server may answer and close before it has taken everything.
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            conn.sendall(data)
        received = b""
        try:
            while chunk := conn.recv(65536):
                received += chunk
        except TimeoutError:
            return received, time.monotonic() - started, False
        except ConnectionResetError:
            pass  # closed with unread request bytes still in its buffer: a reset
    return received, time.monotonic() - started, True


def request_head(headers: dict[str, str], method: str = "POST") -> bytes:
    lines = [f"{method} /api/orders HTTP/1.1", "Host: 127.0.0.1"]
    lines += [f"{k}: {v}" for k, v in headers.items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


@pytest.mark.parametrize("kind", SERVERS)
def test_a_promised_huge_body_is_413_at_once_and_the_connection_closed(
    tmp_path: Path, kind: str
) -> None:
    with server(tmp_path, kind) as port:
        head = request_head(
            {"Content-Type": "application/json", "Content-Length": str(200 * 1024 * 1024)}
        )
        response, seconds, closed = exchange(port, head + b'{"customer": ')
    assert response.startswith(b"HTTP/1.1 413 "), response[:200]
    assert b"application/problem+json" in response
    assert closed
    assert seconds < 5


@pytest.mark.parametrize("kind", SERVERS)
def test_a_body_that_stops_arriving_is_408_after_the_timeout(tmp_path: Path, kind: str) -> None:
    with server(tmp_path, kind) as port:
        head = request_head({"Content-Type": "application/json", "Content-Length": "100"})
        response, seconds, closed = exchange(port, head + b'{"custome')
    assert response.startswith(b"HTTP/1.1 408 "), response[:200]
    assert b"request-timeout" in response
    assert closed
    assert 0.9 <= seconds < 6


def test_granian_refuses_a_mebibyte_of_headers_itself(tmp_path: Path) -> None:
    """granian bounds what it buffers of a request head (its HTTP/1 buffer, ~400 KiB) and
    answers 431 before the app sees the request; 8 KiB of headers pass."""
    with server(tmp_path, "granian") as port:
        small = httpx.get(
            f"http://127.0.0.1:{port}/api/health", headers={"X-Pad": "a" * 8192}, timeout=5
        )
        response, _, closed = exchange(port, request_head({"X-Pad": "a" * (1024 * 1024)}, "GET"))
    assert small.status_code == 200
    assert response.startswith(b"HTTP/1.1 431 "), response[:200]
    assert closed


def test_with_the_h11_settings_a_mebibyte_of_headers_is_refused(tmp_path: Path) -> None:
    with server(tmp_path, "uvicorn", **HEADER_LIMIT_ENV) as port:
        small = httpx.get(
            f"http://127.0.0.1:{port}/api/health", headers={"X-Pad": "a" * 8192}, timeout=5
        )
        big = request_head({"X-Pad": "a" * (1024 * 1024)}, method="GET")
        response, _, closed = exchange(port, big)
    assert small.status_code == 200
    assert response.startswith(b"HTTP/1.1 4"), response[:200]  # h11: 400 Bad Request
    assert closed


def test_on_uvicorns_default_parser_a_mebibyte_of_headers_is_431(tmp_path: Path) -> None:
    """httptools has no header bound; the app's own one answers with a problem."""
    with server(tmp_path, "uvicorn") as port:
        big = request_head({"X-Pad": "a" * (1024 * 1024)}, method="GET")
        response, _, _ = exchange(port, big)
    assert response.startswith(b"HTTP/1.1 431 "), response[:200]
    assert b"request-header-fields-too-large" in response


@pytest.mark.parametrize(
    ("kind", "env"),
    [("granian", {}), ("uvicorn", {}), ("uvicorn", HEADER_LIMIT_ENV)],
    ids=["granian", "httptools", "h11"],
)
def test_a_json_body_without_a_content_type_is_accepted_on_either_parser(
    tmp_path: Path, kind: str, env: dict[str, str]
) -> None:
    """Only the server or parser changes; the app's answers do not."""
    with server(tmp_path, kind, **env) as port:
        head = request_head({"Content-Length": "2", "Content-Type": "text/plain"})
        response, _, _ = exchange(port, head + b"{}")
    assert response.startswith(b"HTTP/1.1 415 "), response[:200]
