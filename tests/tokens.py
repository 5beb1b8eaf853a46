"""Test access tokens: a signing key made in this process, never a committed private key.

`mint()` issues tokens shaped like Cognito's (and moto's) access tokens; `jwks_url()`
serves the matching public keys on loopback, so the API verifies them with its real
HTTP adapter; `key_source()` hands them over in memory for the unit tier.
"""

from __future__ import annotations

import json
import threading
import time
import uuid
from functools import cache
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from joserfc import jwt
from joserfc.jwk import RSAKey

REGION = "us-east-1"
ISSUER = f"https://cognito-idp.{REGION}.amazonaws.com/{REGION}_TestPool"
UI_CLIENT = "orders-ui-test-client"
MACHINE_CLIENT = "orders-machine-test-client"
CLIENT_IDS = f"{UI_CLIENT},{MACHINE_CLIENT}"
KID = "test-key-1"
OPERATORS = "operators"
# The scope Cognito puts in a user's access token (USER_PASSWORD_AUTH): not an orders scope.
USER_SCOPE = "aws.cognito.signin.user.admin"
ALL_SCOPES = "orders/read orders/write"

# Who each test user is: username and groups (machine: none, client credentials).
USERS: dict[str, dict[str, Any]] = {
    "acme": {"username": "acme", "groups": []},
    # The customer of the order the sample events address (events/generate.py).
    "acme-corp": {"username": "acme-corp", "groups": []},
    "globex": {"username": "globex", "groups": []},
    "operator": {"username": "operator", "groups": [OPERATORS]},
    "machine": {"username": None, "groups": []},
}


def signing_key(kid: str = KID) -> RSAKey:
    """An RSA key made once per process (and per kid)."""
    return _key(kid)


@cache
def _key(kid: str) -> RSAKey:
    return RSAKey.generate_key(2048, parameters={"kid": kid, "alg": "RS256", "use": "sig"})


def jwks(*kids: str) -> dict[str, Any]:
    """The public JWKS for these kids (the default key when none are named)."""
    return {"keys": [signing_key(kid).as_dict(private=False) for kid in kids or (KID,)]}


def claims(user: str = "acme", **overrides: Any) -> dict[str, Any]:
    """The claims Cognito puts in an access token for `user` (see USERS)."""
    profile = USERS[user]
    now = int(time.time())
    machine = profile["username"] is None
    body: dict[str, Any] = {
        "iss": ISSUER,
        "sub": MACHINE_CLIENT if machine else f"sub-{user}",
        "client_id": MACHINE_CLIENT if machine else UI_CLIENT,
        "token_use": "access",
        "scope": ALL_SCOPES if machine else USER_SCOPE,
        "auth_time": now,
        "iat": now,
        "exp": now + 3600,
        "jti": str(uuid.uuid4()),
    }
    if not machine:
        body["username"] = profile["username"]
        if profile["groups"]:
            body["cognito:groups"] = list(profile["groups"])
    body.update(overrides)
    return {k: v for k, v in body.items() if v is not None}


def mint(
    user: str = "acme", *, key: RSAKey | None = None, kid: str | None = None, **overrides: Any
) -> str:
    """A signed access token for `user`; claim overrides (None drops a claim)."""
    key = key or signing_key()
    header = {"alg": "RS256", "kid": kid if kid is not None else key.kid}
    return jwt.encode(header, claims(user, **overrides), key, algorithms=["RS256"])


def bearer(user: str = "acme", **overrides: Any) -> dict[str, str]:
    """The Authorization header for `user`."""
    return {"Authorization": f"Bearer {mint(user, **overrides)}"}


class StaticKeySource:
    """The KeySource port, in memory: the test JWKS, counting the fetches."""

    def __init__(self, document: dict[str, Any] | None = None) -> None:
        self.document = document if document is not None else jwks()
        self.fetches = 0

    def fetch(self) -> dict[str, Any]:
        self.fetches += 1
        return self.document


class _JwksHandler(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        body = json.dumps(jwks()).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:  # quiet
        pass


@cache
def jwks_url() -> str:
    """A loopback HTTP server with the test JWKS, started once per process (daemon thread)."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _JwksHandler)
    threading.Thread(target=server.serve_forever, name="test-jwks", daemon=True).start()
    return f"http://127.0.0.1:{server.server_address[1]}/{REGION}_TestPool/.well-known/jwks.json"


def auth_env() -> dict[str, str]:
    """The API's auth settings for the test issuer."""
    return {
        "ORDERS_AUTH_ISSUER": ISSUER,
        "ORDERS_AUTH_CLIENT_IDS": CLIENT_IDS,
        "ORDERS_AUTH_JWKS_URL": jwks_url(),
    }
