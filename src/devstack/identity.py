"""The local identity: what `make dev` creates in the emulator's cognito-idp, in one place.

cform/identity.yaml (the cloud's IdentityStack) cannot be deployed into moto, whose
CloudFormation has no Cognito, so devstack creates the same things through the
cognito-idp API (devstack.identity_provision). This module is the one place that says
what they are: names, scopes, flows, the group, the demo users.
tests/infra/test_identity_mirror.py ties it to identity.yaml.

It also holds the environment the identity gives the API and the UI, and
`access_token(user)` for tests and tools.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING

from devstack.envs import REGION

if TYPE_CHECKING:
    from collections.abc import Mapping
    from pathlib import Path

POOL_NAME = "orders-local"
# moto's id strategies: a hash of the create call's arguments instead of a random id, so
# the pool and its clients get the same ids on every start (and a token minted before a
# restart still names the right issuer). Read by moto at each create call.
STABLE_ID_STRATEGY = {
    "MOTO_COGNITO_IDP_USER_POOL_ID_STRATEGY": "HASH",
    "MOTO_COGNITO_IDP_USER_POOL_CLIENT_ID_STRATEGY": "HASH",
}


@dataclass(frozen=True, slots=True)
class ResourceServerSpec:
    identifier: str
    name: str
    scopes: tuple[str, ...]

    def scope(self, name: str) -> str:
        """The scope as tokens carry it: `orders/read`."""
        return f"{self.identifier}/{name}"


@dataclass(frozen=True, slots=True)
class ClientSpec:
    name: str
    generate_secret: bool
    explicit_auth_flows: tuple[str, ...] = ()
    oauth_flows: tuple[str, ...] = ()
    oauth_scopes: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class UserSpec:
    username: str
    groups: tuple[str, ...] = ()


RESOURCE_SERVER = ResourceServerSpec(identifier="orders", name="orders", scopes=("read", "write"))
ORDER_SCOPES = tuple(RESOURCE_SERVER.scope(s) for s in RESOURCE_SERVER.scopes)
OPERATORS_GROUP = "operators"
# People sign in with a username and password (the UI) and stay signed in with the
# refresh token; SRP is allowed as the cloud's client allows it.
UI_CLIENT = ClientSpec(
    name="orders-ui",
    generate_secret=True,
    explicit_auth_flows=(
        "ALLOW_USER_PASSWORD_AUTH",
        "ALLOW_REFRESH_TOKEN_AUTH",
        "ALLOW_USER_SRP_AUTH",
    ),
)
# Tools and services: the client-credentials grant with the API's scopes.
MACHINE_CLIENT = ClientSpec(
    name="orders-machine",
    generate_secret=True,
    oauth_flows=("client_credentials",),
    oauth_scopes=ORDER_SCOPES,
)
# `acme` is a customer (the customer it acts for is its username); `operator` runs the shop.
USERS = (UserSpec("acme"), UserSpec("operator", groups=(OPERATORS_GROUP,)))
MACHINE = "machine"
DEFAULT_TOKEN_USER = USERS[0].username  # the demo customer
# The UI client's secret in the emulator's Secrets Manager (the UI reads it by ARN).
UI_CLIENT_SECRET_NAME = f"{POOL_NAME}/ui-client-secret"
# Where the generated passwords stay between runs (in the state directory, mode 0600).
IDENTITY_FILE = "identity.json"


def token_users() -> tuple[str, ...]:
    """Who `make token USER=...` can speak for: the demo users, then the machine client."""
    return (*(u.username for u in USERS), MACHINE)


@dataclass(frozen=True, slots=True)
class LocalIdentity:
    """What provisioning created: the ids and addresses the API, the UI and tools need."""

    pool_id: str
    ui_client_id: str
    machine_client_id: str
    ui_client_secret_arn: str
    # moto's token issuer and the JWKS it serves on the emulator's port.
    issuer: str
    jwks_url: str

    def to_dict(self) -> dict[str, str]:
        return asdict(self)


def issuer_for(pool_id: str, region: str = REGION) -> str:
    """The `iss` moto writes into tokens, the same in server mode as Cognito's."""
    return f"https://cognito-idp.{region}.amazonaws.com/{pool_id}"


def jwks_url_for(endpoint_url: str, pool_id: str) -> str:
    """The pool's JWKS as moto serves it in server mode (Cognito: `<issuer>/.well-known/...`)."""
    return f"{endpoint_url.rstrip('/')}/{pool_id}/.well-known/jwks.json"


def api_env(identity: LocalIdentity) -> dict[str, str]:
    """ORDERS_AUTH_* for the API, whichever entry runs it (the contract's names)."""
    return {
        "ORDERS_AUTH_ISSUER": identity.issuer,
        "ORDERS_AUTH_JWKS_URL": identity.jwks_url,
        "ORDERS_AUTH_CLIENT_IDS": f"{identity.ui_client_id},{identity.machine_client_id}",
    }


# Set by environments made for processes that are not about auth (orders.settings).
AUTH_DISABLED = "ORDERS_AUTH_DISABLED"


def with_auth(env: Mapping[str, str], identity: LocalIdentity) -> dict[str, str]:
    """`env` with the pool's token settings and the token check on.

    A base environment may switch the check off (ORDERS_AUTH_DISABLED, for processes not
    about auth); a process given a pool checks every token against it.
    """
    kept = {name: value for name, value in env.items() if name != AUTH_DISABLED}
    return {**kept, **api_env(identity)}


def ui_env(identity: LocalIdentity) -> dict[str, str]:
    """The UI's sign-in settings: its client, and where its secret is (never the secret)."""
    return {
        "ORDERS_UI_COGNITO_CLIENT_ID": identity.ui_client_id,
        "ORDERS_UI_COGNITO_CLIENT_SECRET_ARN": identity.ui_client_secret_arn,
    }


# The deployed stack's outputs `make dev AWS_PROFILE=...` turns into the same variables:
# the issuer (the root stack re-exports the IdentityStack's `Issuer` as `AuthIssuer`),
# the clients, and optionally `JwksUrl` (else the issuer's, as Cognito serves it).
ISSUER_OUTPUTS = ("AuthIssuer", "Issuer")
CLIENT_OUTPUTS = ("UiClientId", "MachineClientId", "UiClientSecretArn")


def from_outputs(outputs: Mapping[str, str]) -> LocalIdentity | None:
    """The identity of a deployed stack, or None when its outputs do not name one."""
    issuer = next((outputs[name] for name in ISSUER_OUTPUTS if outputs.get(name)), None)
    if issuer is None or not all(outputs.get(name) for name in CLIENT_OUTPUTS):
        return None
    issuer = issuer.rstrip("/")
    return LocalIdentity(
        pool_id=issuer.rsplit("/", 1)[-1],
        ui_client_id=outputs["UiClientId"],
        machine_client_id=outputs["MachineClientId"],
        ui_client_secret_arn=outputs["UiClientSecretArn"],
        issuer=issuer,
        jwks_url=outputs.get("JwksUrl") or f"{issuer}/.well-known/jwks.json",
    )


def access_token(user: str = DEFAULT_TOKEN_USER, state_dir: Path | None = None) -> str:
    """An access token from the running `make dev` for `acme`, `operator` or `machine`.

    Raises devstack.tokens.TokenError when no stack runs or the user is unknown.
    """
    from devstack.tokens import access_token as mint

    return mint(user, state_dir)
