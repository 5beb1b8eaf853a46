"""`make token [USER=acme|operator|machine]`: an access token from the running `make dev`.

People (`acme`, `operator`) get a real token from the emulator's cognito-idp: the UI
client's USER_PASSWORD_AUTH sign-in, with the SECRET_HASH made from the client secret
read from Secrets Manager, as the UI does it.

`machine` stands in for Cognito's /oauth2/token client-credentials grant, which moto
does not have: the token is built here with the claims Cognito gives a
client-credentials token (client_id, scope, token_use "access", no username) and signed
with the very key moto signs its own tokens with (a resource of the moto package), so
the API checks it against the pool's JWKS like any other. This is emulation, for the
laptop only; in the cloud the machine client asks the pool's domain for its token.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import hmac
import json
import sys
import time
import uuid
from pathlib import Path
from typing import TYPE_CHECKING, Any

from botocore.exceptions import BotoCoreError, ClientError

from devstack import identity, state
from devstack.config import default_state_dir
from devstack.identity_provision import emulator_client

if TYPE_CHECKING:
    from collections.abc import Sequence

    from devstack.identity import LocalIdentity

TOKEN_SECONDS = 3600  # Cognito's default access token validity, and moto's
NOT_RUNNING = "make dev is not running: start it in another terminal"
EXIT_USAGE = 2


class TokenError(RuntimeError):
    """No token can be had; the message says why in one line."""


def secret_hash(client_secret: str, client_id: str, username: str) -> str:
    """Cognito's SECRET_HASH: base64(HMAC-SHA256(client secret, username + client id))."""
    digest = hmac.new(
        client_secret.encode(), (username + client_id).encode(), hashlib.sha256
    ).digest()
    return base64.b64encode(digest).decode()


def user_token(endpoint_url: str, local: LocalIdentity, username: str, password: str) -> str:
    """A real access token from the emulator: the UI client's password sign-in."""
    try:
        client_secret = emulator_client("secretsmanager", endpoint_url).get_secret_value(
            SecretId=local.ui_client_secret_arn
        )["SecretString"]
        answer = emulator_client("cognito-idp", endpoint_url).initiate_auth(
            ClientId=local.ui_client_id,
            AuthFlow="USER_PASSWORD_AUTH",
            AuthParameters={
                "USERNAME": username,
                "PASSWORD": password,
                "SECRET_HASH": secret_hash(client_secret, local.ui_client_id, username),
            },
        )
    except (BotoCoreError, ClientError) as exc:
        raise TokenError(f"the emulator refused {username}'s sign-in: {exc}") from None
    return str(answer["AuthenticationResult"]["AccessToken"])


def moto_signing_key() -> Any:
    """The private key moto's cognito-idp signs every pool's tokens with (kid "dummy")."""
    from joserfc.jwk import RSAKey
    from moto.utilities.utils import load_resource

    return RSAKey.import_key(load_resource("cognitoidp/resources/jwks-private.json"))


def machine_token(local: LocalIdentity, now: float | None = None) -> str:
    """A client-credentials access token for the machine client (see the module docstring)."""
    from joserfc import jwt

    issued = int(time.time() if now is None else now)
    claims = {
        "iss": local.issuer,
        # Cognito's client-credentials tokens name the client as their subject.
        "sub": local.machine_client_id,
        "client_id": local.machine_client_id,
        "token_use": "access",
        "scope": " ".join(identity.MACHINE_CLIENT.oauth_scopes),
        "auth_time": issued,
        "iat": issued,
        "exp": issued + TOKEN_SECONDS,
        "jti": str(uuid.uuid4()),
        "version": 2,
    }
    key = moto_signing_key()
    # The kid moto's own tokens carry, the one its JWKS lists.
    header = {"alg": "RS256", "kid": key.kid}
    return jwt.encode(header, claims, key)


def running_identity(state_dir: Path) -> tuple[str, LocalIdentity]:
    """(emulator endpoint, identity) of the running `make dev`; TokenError without one."""
    running = state.read(state_dir)
    if running is None:
        raise TokenError(NOT_RUNNING)
    if running.mode != "emulator" or running.endpoint_url is None or not running.identity:
        raise TokenError(
            "make token speaks for make dev's emulator only; against a deployed stack, "
            "sign in to its user pool (see the README's Authentication section)"
        )
    return running.endpoint_url, identity.LocalIdentity(**running.identity)


def access_token(user: str = identity.DEFAULT_TOKEN_USER, state_dir: Path | None = None) -> str:
    """An access token for `user` (a demo user or `machine`) from the running `make dev`."""
    if user not in identity.token_users():
        raise TokenError(f"no user {user!r}: choose one of {', '.join(identity.token_users())}")
    state_dir = default_state_dir() if state_dir is None else state_dir
    endpoint_url, local = running_identity(state_dir)
    if user == identity.MACHINE:
        return machine_token(local)
    try:
        stored = json.loads((state_dir / identity.IDENTITY_FILE).read_text(encoding="utf-8"))
        password = str(stored["passwords"][user])
    except (OSError, ValueError, KeyError, TypeError):
        raise TokenError(
            f"no password for {user} in {state_dir / identity.IDENTITY_FILE}: restart make dev"
        ) from None
    return user_token(endpoint_url, local, user, password)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m devstack.tokens", description=__doc__)
    parser.add_argument(
        "--user",
        default=identity.DEFAULT_TOKEN_USER,
        help=f"one of {', '.join(identity.token_users())} (default %(default)s)",
    )
    parser.add_argument(
        "--state-dir", type=Path, default=default_state_dir(), help=argparse.SUPPRESS
    )
    args = parser.parse_args(argv)
    if args.user not in identity.token_users():
        print(
            f"make token: no user {args.user!r}: USER={'|'.join(identity.token_users())}",
            file=sys.stderr,
        )
        return EXIT_USAGE
    try:
        token = access_token(args.user, args.state_dir)
    except TokenError as exc:
        print(f"make token: {exc}", file=sys.stderr)
        return 1
    print(token)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
