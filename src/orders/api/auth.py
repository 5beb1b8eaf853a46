"""Access-token verification: one FastAPI dependency, `PrincipalDep`, on every non-public route.

The app verifies every token itself, even on Lambda where API Gateway's JWT authorizer
has already checked it and put the claims in the event (requestContext.authorizer): the
ALB (fargate, both) and a laptop have no authorizer, and the same token must get the same
answer on every target. So the authorizer context is never read here.

What a valid token is: a JWS signed RS256 by a key from the issuer's JWKS (`kid`), `iss`
the configured issuer, `client_id` one of the configured app clients, `token_use` "access",
`exp` in the future (small leeway). What it may do (roles, scopes) is the service layer's
business (orders.service.CallerOrders).
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Annotated, Any

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from orders.domain.principal import AUTH_DISABLED, Principal
from orders.observability import logger

if TYPE_CHECKING:
    from orders.adapters.jwks import KeyCache
    from orders.settings import Settings

ALGORITHMS = ["RS256"]
REALM = "orders"
# Longer than any JWS Cognito issues (~1-2 KiB), short enough to refuse junk before parsing.
MAX_TOKEN_CHARS = 8192


class InvalidToken(Exception):
    """No usable access token: a 401 with WWW-Authenticate (RFC 6750)."""

    def __init__(self, description: str | None) -> None:
        super().__init__(description or "an access token is required")
        # None: no token at all, which RFC 6750 answers without an error code.
        self.description = description

    @property
    def challenge(self) -> str:
        if self.description is None:
            return f'Bearer realm="{REALM}"'
        return f'Bearer error="invalid_token", error_description="{self.description}"'


class TokenVerifier:
    """Checks a compact JWS access token and returns who it names."""

    def __init__(self, settings: Settings, keys: KeyCache) -> None:
        from joserfc.jwt import JWTClaimsRegistry

        self._keys = keys
        self._operator_group = settings.auth_operator_group
        self._claims = JWTClaimsRegistry(
            leeway=settings.auth_leeway_seconds,
            iss={"essential": True, "value": settings.auth_issuer or ""},
            client_id={"essential": True, "values": sorted(settings.auth_client_ids)},
            token_use={"essential": True, "value": "access"},
            sub={"essential": True},
            exp={"essential": True},
        )

    def verify(self, token: str) -> Principal:
        from joserfc import errors, jwt

        if len(token) > MAX_TOKEN_CHARS:
            raise InvalidToken("the token is too long")

        def key_for(guest: Any) -> Any:
            kid = guest.headers().get("kid")
            if not isinstance(kid, str) or not kid:
                raise InvalidToken("the token names no signing key (kid)")
            key = self._keys.key(kid)
            if key is None:
                raise InvalidToken("the token is signed by an unknown key")
            return key

        try:
            decoded = jwt.decode(token, key_for, algorithms=ALGORITHMS)
            self._claims.validate(decoded.claims)
        except errors.ExpiredTokenError:
            raise InvalidToken("the token has expired") from None
        except (errors.InvalidClaimError, errors.MissingClaimError) as exc:
            claim = getattr(exc, "claim", None) or str(exc)
            raise InvalidToken(f"the token's {_claim_name(claim)} is not accepted") from None
        except errors.BadSignatureError:
            raise InvalidToken("the token's signature does not verify") from None
        except (errors.JoseError, ValueError, KeyError, TypeError) as exc:
            # Not a JWS at all, a disallowed algorithm ("none", HS256), a broken header.
            logger.info("token refused", reason=type(exc).__name__)
            raise InvalidToken("the token is malformed") from None
        return self._principal(decoded.claims)

    def _principal(self, claims: dict[str, Any]) -> Principal:
        # The registry accepts a list that contains the expected value; Cognito only ever
        # writes strings here, so anything else is refused rather than stringified.
        if not all(isinstance(claims.get(name), str) for name in ("iss", "sub", "client_id")):
            raise InvalidToken("the token's iss, sub or client_id is malformed")
        groups = claims.get("cognito:groups") or []
        scope = claims.get("scope") or ""
        username = claims.get("username")
        if not isinstance(groups, list) or not isinstance(scope, str):
            raise InvalidToken("the token's groups or scope are malformed")
        if username is not None and (not isinstance(username, str) or not username):
            raise InvalidToken("the token's username is malformed")
        return Principal(
            subject=claims["sub"],
            client_id=claims["client_id"],
            username=username,
            groups=frozenset(str(g) for g in groups),
            scopes=frozenset(scope.split()),
            operator_group=self._operator_group,
        )


def _claim_name(message: str) -> str:
    # joserfc's messages read "Invalid claim: 'iss'"; keep just the claim for the client.
    for name in ("iss", "client_id", "token_use", "sub", "exp", "iat", "nbf"):
        if f"'{name}'" in message or message == name:
            return name
    return "claims"


# Declares the bearer scheme in the OpenAPI document (the lock in /api/docs); auto_error
# off, so a missing token is our 401 problem with the RFC 6750 challenge, not FastAPI's 403.
_bearer = HTTPBearer(
    auto_error=False,
    scheme_name="bearer",
    bearerFormat="JWT",
    description="A Cognito access token: `Authorization: Bearer <token>` (see README).",
)
_verifier_lock = threading.Lock()


def _verifier(request: Request) -> TokenVerifier:
    container = request.app.state.container
    state = request.app.state
    verifier: TokenVerifier | None = getattr(state, "token_verifier", None)
    if verifier is None:
        with _verifier_lock:
            verifier = getattr(state, "token_verifier", None)
            if verifier is None:
                verifier = TokenVerifier(container.settings, container.key_cache())
                state.token_verifier = verifier
    return verifier


def _principal(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Principal:
    # A plain def: the first request (or a rotated key) fetches the JWKS, blocking I/O
    # that FastAPI then runs in its thread pool instead of on the event loop.
    if request.app.state.container.settings.auth_disabled:
        principal = AUTH_DISABLED
    elif credentials is None:
        raise InvalidToken(_why_no_token(request))
    else:
        principal = _verifier(request).verify(credentials.credentials)
    request.state.principal = principal
    return principal


def _why_no_token(request: Request) -> str | None:
    header = request.headers.get("authorization")
    if header is None:
        return None
    return "the Authorization header must be 'Bearer <access token>'"


def requires_token(request: Request) -> bool:
    """Whether the route this request matched depends on the principal (not a public route)."""
    route = request.scope.get("route")
    pending = [getattr(route, "dependant", None)]
    while pending:
        dependant = pending.pop()
        if dependant is None:
            continue
        if dependant.call is _principal:
            return True
        pending.extend(dependant.dependencies)
    return False


def authenticate(request: Request) -> Principal:
    """The principal for a request FastAPI refused before its dependencies ran.

    FastAPI parses a JSON body before it solves dependencies, so a malformed body would
    be a 400 before the token is looked at; problems.py calls this first, so a caller
    without a valid token learns nothing about the route, whatever its body.
    """
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    credentials = (
        HTTPAuthorizationCredentials(scheme=scheme, credentials=token.strip())
        if scheme.lower() == "bearer" and token.strip()
        else None
    )
    return _principal(request, credentials)


PrincipalDep = Annotated[Principal, Depends(_principal)]
# For a router or route's `dependencies=[...]`: checked before any path or body parameter,
# so an unauthenticated caller learns nothing (not even a 404 or 422) about the route.
# The same callable as PrincipalDep, so FastAPI verifies the token once per request.
AUTHENTICATED = Depends(_principal)
