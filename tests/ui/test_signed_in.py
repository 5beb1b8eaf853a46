"""A signed-in session meets an API that refuses it: 401 back to sign-in, 403 and 429
(throttled, counted per signed-in caller) in plain words.

A small stand-in API on loopback answers health and readiness and refuses the orders with
the status under test: each refusal on demand, where the real API would need an expired or
under-scoped token, or a spent limit, to give it (tests/ui/test_against_api.py runs the UI
against the real one).
"""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING, ClassVar, Protocol

import pytest
from streamlit.testing.v1 import AppTest

from tests.ui.conftest import APP
from ui.auth import Session

if TYPE_CHECKING:
    from collections.abc import Iterator


class StandInApi(BaseHTTPRequestHandler):
    """A stand-in API; each class records the Authorization header of what it refused."""

    seen_tokens: ClassVar[list[str | None]]


class Serve(Protocol):
    """The `serve` fixture: start a stand-in API refusing with `status`; its URL and class."""

    def __call__(self, status: int) -> tuple[str, type[StandInApi]]: ...


def refusing_api(status: int) -> type[StandInApi]:
    class Handler(StandInApi):
        seen_tokens: ClassVar[list[str | None]] = []

        def do_GET(self) -> None:
            if self.path.startswith("/api/health"):
                self._send(200, {"status": "ok"})
            elif self.path.startswith("/api/ready"):
                self._send(200, {"status": "ok", "checks": {}})
            elif self.path.startswith("/api/openapi.json"):
                self._send(200, {"components": {"schemas": {}}, "paths": {}})
            elif status == 429:
                # As orders.api.throttle answers: its problem type, its detail, Retry-After.
                Handler.seen_tokens.append(self.headers.get("Authorization"))
                self._send(429, {"type": "urn:orders:problem:too-many-requests",
                                 "title": "Too Many Requests", "status": 429,
                                 "detail": "more than 60 requests in 60 s from this caller; "
                                           "retry after 17 s"},
                           headers={"Retry-After": "17"})  # fmt: skip
            else:
                Handler.seen_tokens.append(self.headers.get("Authorization"))
                title = "Unauthorized" if status == 401 else "Forbidden"
                self._send(status, {"type": "about:blank", "title": title, "status": status,
                                    "detail": "token rejected"})  # fmt: skip

        def _send(self, code: int, body: object, headers: dict[str, str] | None = None) -> None:
            data = json.dumps(body).encode()
            self.send_response(code)
            for name, value in (headers or {}).items():
                self.send_header(name, value)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args: object) -> None:
            pass

    return Handler


@pytest.fixture
def serve() -> Iterator[Serve]:
    servers: list[ThreadingHTTPServer] = []

    def start(status: int) -> tuple[str, type[StandInApi]]:
        handler = refusing_api(status)
        server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        return f"http://127.0.0.1:{server.server_address[1]}", handler

    yield start
    for server in servers:
        server.shutdown()


@pytest.fixture
def signed_in(monkeypatch: pytest.MonkeyPatch) -> None:
    # Sign-in is configured; the session below is already signed in, so Cognito is not asked.
    monkeypatch.setenv("ORDERS_UI_COGNITO_CLIENT_ID", "ui-client")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "eu-west-1")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")


def app(monkeypatch: pytest.MonkeyPatch, url: str) -> AppTest:
    monkeypatch.setenv("ORDERS_API_URL", url)
    at = AppTest.from_file(str(APP), default_timeout=15)
    at.session_state["auth_session"] = Session(
        access_token="header.eyJ1c2VybmFtZSI6Im9wZXJhdG9yIn0.sig",
        refresh_token="refresh",
        expires_at=time.time() + 3600,
        username="operator",
        groups=frozenset({"operators"}),
    )
    return at


def test_a_401_returns_to_sign_in_with_a_plain_message(
    serve: Serve, signed_in: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    url, handler = serve(401)

    at = app(monkeypatch, url).run()

    assert not at.exception
    assert "auth_session" not in at.session_state
    assert [e.value for e in at.error] == ["Your session has ended. Sign in again to continue."]
    assert [b.label for b in at.button] == ["Sign in"]
    assert handler.seen_tokens[0] == "Bearer header.eyJ1c2VybmFtZSI6Im9wZXJhdG9yIn0.sig"


def test_a_403_says_the_user_may_not(
    serve: Serve, signed_in: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    url, _ = serve(403)

    at = app(monkeypatch, url).run()

    assert not at.exception
    assert "auth_session" in at.session_state
    assert "may not do that" in at.error[0].value
    assert "Signed in as **operator** (operator)" in [m.value for m in at.sidebar.markdown]


def test_without_sign_in_configured_a_401_says_so(
    serve: Serve, monkeypatch: pytest.MonkeyPatch
) -> None:
    url, handler = serve(401)
    monkeypatch.delenv("ORDERS_UI_COGNITO_CLIENT_ID", raising=False)
    monkeypatch.setenv("ORDERS_API_URL", url)

    at = AppTest.from_file(str(APP), default_timeout=15).run()

    assert not at.exception
    assert "sign-in is not configured" in at.error[0].value
    assert handler.seen_tokens == [None]


def test_a_429_says_how_long_to_wait_without_developer_words(
    serve: Serve, signed_in: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    url, _ = serve(429)

    at = app(monkeypatch, url).run()

    assert not at.exception
    assert "auth_session" in at.session_state  # throttled is not signed out
    [warning] = at.warning
    assert warning.value == "Too many requests in a short time. Wait 17 seconds, then try again."
    shown = "\n".join(
        [str(e.value) for e in (*at.warning, *at.error, *at.info)] + [m.value for m in at.markdown]
    )
    for developer_word in ("429", "Retry-After", "caller", "urn:", "Too Many Requests"):
        assert developer_word not in shown
