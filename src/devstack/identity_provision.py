"""Create devstack.identity's pool, clients, group and users in the emulator, idempotently.

Each step looks for what it would create first, so running it again against the same
emulator changes nothing, and a new `make dev` (a new, empty emulator) gets the same ids
(moto's HASH id strategies) and the passwords kept in the state directory.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import string
from typing import TYPE_CHECKING, Any

import boto3
from botocore.exceptions import BotoCoreError, ClientError

from devstack import identity
from devstack.envs import FAKE_CREDENTIALS, REGION

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator
    from pathlib import Path

    from devstack.identity import ClientSpec, LocalIdentity

PASSWORD_LENGTH = 24
PAGE_SIZE = 60  # cognito-idp's largest page for pools and clients


class IdentityError(RuntimeError):
    """The identity could not be created in the emulator; the message says which step."""


def emulator_client(service: str, endpoint_url: str) -> Any:
    """A client of the emulator with its fixed credentials and region.

    Any: the project installs no cognito-idp stubs for these dev-only callers.
    """
    session = boto3.session.Session(
        aws_access_key_id=FAKE_CREDENTIALS["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=FAKE_CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
        region_name=REGION,
    )
    return session.client(service, endpoint_url=endpoint_url)  # type: ignore[call-overload]


def new_password() -> str:
    """A random password meeting Cognito's default policy (upper, lower, digit, symbol, 8+)."""
    alphabet = string.ascii_letters + string.digits
    body = "".join(secrets.choice(alphabet) for _ in range(PASSWORD_LENGTH - 4))
    return (
        body
        + secrets.choice(string.ascii_uppercase)
        + secrets.choice(string.ascii_lowercase)
        + secrets.choice(string.digits)
        + "!"
    )


def load_passwords(state_dir: Path) -> dict[str, str]:
    """The demo users' passwords: kept from an earlier run, new ones for users without one.

    Written back with mode 0600 when anything was added.
    """
    path = state_dir / identity.IDENTITY_FILE
    try:
        stored = json.loads(path.read_text(encoding="utf-8")).get("passwords", {})
    except (FileNotFoundError, ValueError, AttributeError):
        stored = {}
    if not isinstance(stored, dict):
        stored = {}
    passwords = {
        user.username: str(stored.get(user.username) or new_password()) for user in identity.USERS
    }
    # Also rewritten when someone widened its mode: the file holds passwords.
    if passwords != stored or path.stat().st_mode & 0o077:
        write_private(path, json.dumps({"passwords": passwords}, indent=2) + "\n")
    return passwords


def write_private(path: Path, text: str) -> None:
    """Replace `path` with `text`, readable by this user only, never briefly by others."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.unlink(missing_ok=True)
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(text)
    tmp.replace(path)


def _pool_id(cognito: Any) -> str:
    for page in cognito.get_paginator("list_user_pools").paginate(
        PaginationConfig={"PageSize": PAGE_SIZE}
    ):
        for pool in page["UserPools"]:
            if pool["Name"] == identity.POOL_NAME:
                return str(pool["Id"])
    created = cognito.create_user_pool(
        PoolName=identity.POOL_NAME,
        # The demo users are made by an administrator (here), as the cloud pool's are.
        AdminCreateUserConfig={"AllowAdminCreateUserOnly": True},
    )
    return str(created["UserPool"]["Id"])


def _create_unless_found(
    find: Callable[[], object], create: Callable[[], object], missing: str
) -> None:
    """Create a Cognito resource unless `find` sees it; `missing` is the not-found error code.

    Cognito has no create-if-absent, and a second `make dev` against the same emulator state
    finds everything made by the first.
    """
    try:
        find()
    except ClientError as exc:
        if exc.response["Error"]["Code"] != missing:
            raise
        create()


def _resource_server(cognito: Any, pool_id: str) -> None:
    spec = identity.RESOURCE_SERVER
    _create_unless_found(
        lambda: cognito.describe_resource_server(UserPoolId=pool_id, Identifier=spec.identifier),
        lambda: cognito.create_resource_server(
            UserPoolId=pool_id,
            Identifier=spec.identifier,
            Name=spec.name,
            Scopes=[{"ScopeName": s, "ScopeDescription": f"{s} orders"} for s in spec.scopes],
        ),
        "ResourceNotFoundException",
    )


def _client_config(spec: ClientSpec) -> dict[str, Any]:
    config: dict[str, Any] = {"ClientName": spec.name, "GenerateSecret": spec.generate_secret}
    if spec.explicit_auth_flows:
        config["ExplicitAuthFlows"] = list(spec.explicit_auth_flows)
    if spec.oauth_flows:
        config.update(
            AllowedOAuthFlowsUserPoolClient=True,
            AllowedOAuthFlows=list(spec.oauth_flows),
            AllowedOAuthScopes=list(spec.oauth_scopes),
        )
    return config


def _app_client(cognito: Any, pool_id: str, spec: ClientSpec) -> tuple[str, str]:
    """(client id, client secret) of the pool's client named in `spec`, created if missing."""
    for page in cognito.get_paginator("list_user_pool_clients").paginate(
        UserPoolId=pool_id, PaginationConfig={"PageSize": PAGE_SIZE}
    ):
        for client in page["UserPoolClients"]:
            if client["ClientName"] == spec.name:
                described = cognito.describe_user_pool_client(
                    UserPoolId=pool_id, ClientId=client["ClientId"]
                )["UserPoolClient"]
                return str(described["ClientId"]), str(described.get("ClientSecret", ""))
    created = cognito.create_user_pool_client(UserPoolId=pool_id, **_client_config(spec))
    client = created["UserPoolClient"]
    return str(client["ClientId"]), str(client.get("ClientSecret", ""))


def _group(cognito: Any, pool_id: str, name: str) -> None:
    _create_unless_found(
        lambda: cognito.get_group(GroupName=name, UserPoolId=pool_id),
        lambda: cognito.create_group(GroupName=name, UserPoolId=pool_id),
        "ResourceNotFoundException",
    )


def _user(cognito: Any, pool_id: str, user: identity.UserSpec, password: str) -> None:
    _create_unless_found(
        lambda: cognito.admin_get_user(UserPoolId=pool_id, Username=user.username),
        lambda: cognito.admin_create_user(
            UserPoolId=pool_id, Username=user.username, MessageAction="SUPPRESS"
        ),
        "UserNotFoundException",
    )
    # Permanent: the user can sign in with it at once (no FORCE_CHANGE_PASSWORD step).
    cognito.admin_set_user_password(
        UserPoolId=pool_id, Username=user.username, Password=password, Permanent=True
    )
    for group in user.groups:
        cognito.admin_add_user_to_group(UserPoolId=pool_id, Username=user.username, GroupName=group)


def _secret(secretsmanager: Any, value: str, kms_key_id: str) -> str:
    """The UI client's secret in Secrets Manager, encrypted with the shared key; its ARN."""
    try:
        arn = secretsmanager.describe_secret(SecretId=identity.UI_CLIENT_SECRET_NAME)["ARN"]
    except ClientError as exc:
        if exc.response["Error"]["Code"] != "ResourceNotFoundException":
            raise
        created = secretsmanager.create_secret(
            Name=identity.UI_CLIENT_SECRET_NAME,
            Description="The orders UI app client's secret (SECRET_HASH)",
            KmsKeyId=kms_key_id,
            SecretString=value,
        )
        return str(created["ARN"])
    current = secretsmanager.get_secret_value(SecretId=arn)["SecretString"]
    if current != value:
        secretsmanager.put_secret_value(SecretId=arn, SecretString=value)
    return str(arn)


def provision(
    endpoint_url: str, kms_key_id: str, state_dir: Path
) -> tuple[LocalIdentity, dict[str, str]]:
    """Create (or find) the identity in the emulator at `endpoint_url`.

    Returns what was made and the demo users' passwords.
    """
    with _stable_ids():
        return _provision(endpoint_url, kms_key_id, state_dir)


@contextlib.contextmanager
def _stable_ids() -> Iterator[None]:
    """moto's HASH id strategies while the identity is created.

    moto (in this process, for `make dev`) reads them from the environment at each create
    call; set only meanwhile, so nothing else in the process (a test session) sees them.
    """
    saved = {name: os.environ.get(name) for name in identity.STABLE_ID_STRATEGY}
    os.environ.update(identity.STABLE_ID_STRATEGY)
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def _provision(
    endpoint_url: str, kms_key_id: str, state_dir: Path
) -> tuple[LocalIdentity, dict[str, str]]:
    passwords = load_passwords(state_dir)
    cognito = emulator_client("cognito-idp", endpoint_url)
    step = "the user pool"
    try:
        pool_id = _pool_id(cognito)
        step = "the resource server"
        _resource_server(cognito, pool_id)
        step = "the app clients"
        ui_client_id, ui_secret = _app_client(cognito, pool_id, identity.UI_CLIENT)
        machine_client_id, _ = _app_client(cognito, pool_id, identity.MACHINE_CLIENT)
        step = f"the group {identity.OPERATORS_GROUP}"
        _group(cognito, pool_id, identity.OPERATORS_GROUP)
        for user in identity.USERS:
            step = f"the user {user.username}"
            _user(cognito, pool_id, user, passwords[user.username])
        step = "the UI client's secret"
        secret_arn = _secret(emulator_client("secretsmanager", endpoint_url), ui_secret, kms_key_id)
    except (BotoCoreError, ClientError) as exc:
        raise IdentityError(f"could not create {step} in the emulator: {exc}") from None
    made = identity.LocalIdentity(
        pool_id=pool_id,
        ui_client_id=ui_client_id,
        machine_client_id=machine_client_id,
        ui_client_secret_arn=secret_arn,
        issuer=identity.issuer_for(pool_id),
        jwks_url=identity.jwks_url_for(endpoint_url, pool_id),
    )
    return made, passwords
