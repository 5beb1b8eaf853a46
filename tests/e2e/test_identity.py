"""The local identity: `make dev`'s user pool, `make token`, and what the children are given.

Tokens are checked as the API will check them: signature against the JWKS moto serves
for the pool on the emulator's port (joserfc), then issuer, client, use, groups, scope.
"""

from __future__ import annotations

import json
import os
import stat
import subprocess
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import boto3
import httpx
import pytest
from joserfc import jwt
from joserfc.jwk import KeySet

from devstack import identity
from devstack.emulator import Emulator
from devstack.identity_provision import provision
from devstack.netports import free_port
from devstack.tokens import NOT_RUNNING
from tests.e2e.stack import ROOT, clean_env, environ, run_module

if TYPE_CHECKING:
    from tests.e2e.stack import DevStack

pytestmark = pytest.mark.e2e


def make_token(state_dir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """`make token`'s command."""
    return run_module("devstack.tokens", *args, "--state-dir", str(state_dir))


def served_keys(stack: DevStack) -> KeySet:
    assert stack.identity is not None
    answer = httpx.get(stack.identity["jwks_url"], timeout=10)
    assert answer.status_code == 200, answer.text
    return KeySet.import_key_set(answer.json())


def client(stack: DevStack, service: str) -> Any:
    return boto3.session.Session(
        aws_access_key_id="testing", aws_secret_access_key="testing", region_name="us-east-1"
    ).client(service, endpoint_url=stack.endpoint_url)  # type: ignore[call-overload]


@pytest.mark.parametrize("user", identity.token_users())
def test_make_token_prints_a_token_the_pools_jwks_verifies(dev_stack: DevStack, user: str) -> None:
    assert dev_stack.identity is not None
    ids = dev_stack.identity

    # When `make token USER=<user>` runs against the stack
    printed = make_token(dev_stack.state_dir, "--user", user)

    # Then it prints one token, signed with a key of the JWKS the emulator serves
    assert printed.returncode == 0, printed.stderr
    token = printed.stdout.strip()
    assert printed.stdout == token + "\n"
    decoded = jwt.decode(token, served_keys(dev_stack))
    claims = decoded.claims
    assert decoded.header["alg"] == "RS256"
    # with the claims the API checks
    assert claims["iss"] == ids["issuer"]
    assert claims["iss"] == f"https://cognito-idp.us-east-1.amazonaws.com/{ids['pool_id']}"
    assert claims["token_use"] == "access"
    assert claims["exp"] > time.time() + 600
    if user == identity.MACHINE:
        # A client-credentials token: the machine client, the API's scopes, no user
        assert claims["client_id"] == ids["machine_client_id"]
        assert claims["scope"].split() == ["orders/read", "orders/write"]
        assert "username" not in claims
        assert "cognito:groups" not in claims
    else:
        # A person signed in through the UI client
        assert claims["client_id"] == ids["ui_client_id"]
        assert claims["username"] == user
        groups = claims.get("cognito:groups", [])
        assert groups == (["operators"] if user == "operator" else [])


def test_the_children_get_the_identity_the_tokens_name(dev_stack: DevStack) -> None:
    assert dev_stack.identity is not None
    ids = dev_stack.identity
    wanted_api = {
        "ORDERS_AUTH_ISSUER": ids["issuer"],
        "ORDERS_AUTH_JWKS_URL": ids["jwks_url"],
        "ORDERS_AUTH_CLIENT_IDS": f"{ids['ui_client_id']},{ids['machine_client_id']}",
    }
    # The JWKS URL is the emulator's own, on loopback
    assert ids["jwks_url"].startswith(f"{dev_stack.endpoint_url}/")

    # Both API entries (so every target of `make switch`) get the same token settings
    for name in ("api", "lambda"):
        env = environ(dev_stack.children[name])
        assert {k: env.get(k) for k in wanted_api} == wanted_api, name
        # and the app's own per-caller limit, as in the cloud (no --rate-limit-per-minute)
        assert "ORDERS_RATE_LIMIT_PER_MINUTE" not in env
        # with the token check on, whatever a base environment for tests says
        assert "ORDERS_AUTH_DISABLED" not in env
    # and the UI its client, and where its secret is kept, never the secret itself
    ui = environ(dev_stack.children["ui"])
    assert ui["ORDERS_UI_COGNITO_CLIENT_ID"] == ids["ui_client_id"]
    assert ui["ORDERS_UI_COGNITO_CLIENT_SECRET_ARN"] == ids["ui_client_secret_arn"]
    secret = client(dev_stack, "secretsmanager").get_secret_value(
        SecretId=ids["ui_client_secret_arn"]
    )["SecretString"]
    assert secret not in ui.values()
    # The secret kept is the UI client's own, under the data stack's key
    described = client(dev_stack, "cognito-idp").describe_user_pool_client(
        UserPoolId=ids["pool_id"], ClientId=ids["ui_client_id"]
    )["UserPoolClient"]
    assert secret == described["ClientSecret"]
    kept = client(dev_stack, "secretsmanager").describe_secret(SecretId=ids["ui_client_secret_arn"])
    assert kept["KmsKeyId"] == dev_stack.outputs["KmsKeyArn"]
    # and the ready block names the users and how to get a token
    printed = "".join(dev_stack.output)
    assert "make token [USER=acme|operator|machine]" in printed
    passwords = json.loads((dev_stack.state_dir / identity.IDENTITY_FILE).read_text())
    assert f"acme / {passwords['passwords']['acme']}" in printed


def test_the_passwords_file_is_private_and_not_in_state_json(dev_stack: DevStack) -> None:
    path = dev_stack.state_dir / identity.IDENTITY_FILE
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    passwords = json.loads(path.read_text())["passwords"]
    assert set(passwords) == {"acme", "operator"}
    assert all(len(p) >= 16 for p in passwords.values())
    state_text = (dev_stack.state_dir / "state.json").read_text()
    assert not [p for p in passwords.values() if p in state_text]


def test_make_token_refuses_an_unknown_user_and_a_missing_stack(
    dev_stack: DevStack, tmp_path: Path
) -> None:
    unknown = make_token(dev_stack.state_dir, "--user", "mallory")
    assert unknown.returncode == 2
    assert "USER=acme|operator|machine" in unknown.stderr
    assert unknown.stdout == ""

    missing = make_token(tmp_path / "no-stack", "--user", "acme")
    assert missing.returncode == 1
    assert missing.stderr.strip() == f"make token: {NOT_RUNNING}"


def test_provisioning_is_idempotent_and_a_new_emulator_gets_the_same_ids(tmp_path: Path) -> None:
    state_dir = tmp_path / "state"
    made = []
    for _ in range(2):  # two `make dev` runs: a new, empty emulator each time
        port = free_port()
        endpoint = f"http://127.0.0.1:{port}"
        emulator = Emulator("127.0.0.1", port)
        emulator.start()
        try:
            # moto's state is this process's: forget the earlier run's, as a new process would.
            httpx.post(f"{endpoint}/moto-api/reset", timeout=10).raise_for_status()
            kms = boto3.session.Session(
                aws_access_key_id="testing",
                aws_secret_access_key="testing",
                region_name="us-east-1",
            ).client("kms", endpoint_url=endpoint)
            key = kms.create_key()["KeyMetadata"]["Arn"]
            first, passwords = provision(endpoint, key, state_dir)
            # Run again against the same emulator: nothing new, the same answer
            again, same_passwords = provision(endpoint, key, state_dir)
            cognito = boto3.session.Session(
                aws_access_key_id="testing",
                aws_secret_access_key="testing",
                region_name="us-east-1",
            ).client("cognito-idp", endpoint_url=endpoint)
            pools = cognito.list_user_pools(MaxResults=60)["UserPools"]
            clients = cognito.list_user_pool_clients(UserPoolId=first.pool_id, MaxResults=60)
            groups = cognito.list_users_in_group(UserPoolId=first.pool_id, GroupName="operators")
        finally:
            emulator.stop()
        assert again == first
        assert same_passwords == passwords
        assert [p["Name"] for p in pools] == [identity.POOL_NAME]
        assert sorted(c["ClientName"] for c in clients["UserPoolClients"]) == [
            "orders-machine",
            "orders-ui",
        ]
        assert [u["Username"] for u in groups["Users"]] == ["operator"]
        made.append((first, passwords))
    # The ids survive a restart (HASH strategies), and the kept passwords are reused
    (one, one_passwords), (two, two_passwords) = made
    assert (one.pool_id, one.ui_client_id, one.machine_client_id) == (
        two.pool_id,
        two.ui_client_id,
        two.machine_client_id,
    )
    assert one.issuer == two.issuer
    assert one_passwords == two_passwords
    # and moto's id strategy was set only while provisioning (this process is a test session)
    assert not {name for name in identity.STABLE_ID_STRATEGY if name in os.environ}


def test_make_token_takes_user_from_the_command_line_only(dev_stack: DevStack) -> None:
    """`make -s token USER=operator` as the README uses it; the shell's own USER is ignored."""
    env = {**clean_env(), "DEV_STATE_DIR": str(dev_stack.state_dir), "USER": "operator"}

    def token(*args: str) -> dict[str, Any]:
        printed = subprocess.run(
            ["make", "-s", "token", *args], cwd=ROOT, env=env, capture_output=True, text=True,
            timeout=120,
        )  # fmt: skip
        assert printed.returncode == 0, printed.stderr
        # -s: the token alone, so TOKEN=$(make -s token) is usable as it is
        assert len(printed.stdout.split()) == 1, printed.stdout
        return dict(jwt.decode(printed.stdout.strip(), served_keys(dev_stack)).claims)

    assert token()["username"] == "acme"
    operator = token("USER=operator")
    assert operator["username"] == "operator"
    assert operator["cognito:groups"] == ["operators"]
    assert "username" not in token("USER=machine")


def tampered(token: str) -> str:
    """The token with one character of its signature changed."""
    head, body, signature = token.split(".")
    swapped = "A" if signature[10] != "A" else "B"
    return ".".join([head, body, signature[:10] + swapped + signature[11:]])


@pytest.mark.parametrize("entry", ["front door", "lambda", "fargate"])
def test_every_entry_checks_tokens_against_make_devs_pool(dev_stack: DevStack, entry: str) -> None:
    url = {
        "front door": dev_stack.api_url,
        "lambda": dev_stack.lambda_url,
        "fargate": dev_stack.fargate_url,
    }[entry]
    with httpx.Client(base_url=f"{url}/api", timeout=15) as api:
        # No token, or one whose signature is not the pool's: 401, saying Bearer
        anonymous = api.get("/orders")
        assert anonymous.status_code == 401, anonymous.text
        assert anonymous.headers["www-authenticate"].startswith("Bearer")
        forged = api.get(
            "/orders", headers={"Authorization": f"Bearer {tampered(dev_stack.token())}"}
        )
        assert forged.status_code == 401, forged.text
        # The machine client may act for any customer; acme only for itself
        theirs = api.post(
            "/orders",
            json={"customer": "globex", "product": "sprocket", "quantity": 1},
            headers=dev_stack.auth(),
        )
        assert theirs.status_code == 201, theirs.text
        mine = api.post(
            "/orders",
            json={"customer": "acme", "product": "widget", "quantity": 1},
            headers=dev_stack.auth("acme"),
        )
        assert mine.status_code == 201, mine.text
        assert (
            api.get(f"/orders/{mine.json()['id']}", headers=dev_stack.auth("acme")).status_code
            == 200
        )
        foreign = api.get(f"/orders/{theirs.json()['id']}", headers=dev_stack.auth("acme"))
        assert foreign.status_code in (403, 404), foreign.text
        # and the operator reads every customer's
        operator = api.get(f"/orders/{theirs.json()['id']}", headers=dev_stack.auth("operator"))
        assert operator.status_code == 200, operator.text
