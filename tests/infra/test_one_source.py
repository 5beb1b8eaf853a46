"""Facts a template or a local stand-in must repeat, tied to their one source by a test.

Each copy below exists because a template cannot import Python (or the other way round):
the API's IAM statements (Lambda role and Fargate task role), the service's environment,
the table schema moto builds without CloudFormation, and the outbox stream mapping the
local loop imitates. Every check fails when what it compares is empty.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

import pytest
from pydantic import AliasChoices

from bench.common import function_env
from devstack import apigw_local, envs, identity, moto_plane, outbox_loop
from orders.adapters.keys import EVENT_PREFIX
from orders.app import API_PREFIX
from orders.settings import Settings
from tests.infra import cfn

ROOT_RAW = cfn.load(cfn.ROOT_TEMPLATE)
FARGATE_RAW = cfn.load(cfn.CFORM / "fargate.yaml")
DATA_RAW = cfn.load(cfn.CFORM / "data.yaml")


# ------------------------------------------------------------------ IAM


def _resource_name(node: Any) -> str:
    """A policy Resource in a form both templates share: `TableArn`, `TableArn/index/*`.

    The root reads the data stack's outputs (`DataStack.Outputs.TableArn`), the Fargate stack
    gets them as parameters (`TableArn`)."""
    if isinstance(node, dict) and set(node) == {"Ref"}:
        return str(node["Ref"])
    if isinstance(node, dict) and set(node) == {"Fn::GetAtt"}:
        return str(node["Fn::GetAtt"][-1]).removeprefix("Outputs.")
    if isinstance(node, dict) and set(node) == {"Fn::Sub"} and isinstance(node["Fn::Sub"], str):
        return re.sub(r"\$\{(?:DataStack\.Outputs\.)?([A-Za-z0-9]+)\}", r"\1", node["Fn::Sub"])
    raise AssertionError(f"unexpected Resource form {node!r}")


def _grants(role: dict[str, Any]) -> dict[str, set[str]]:
    """Actions per resource name of a role's inline policies, data-plane resources only."""
    grants: dict[str, set[str]] = {}
    for statement in cfn.policy_statements(role["Properties"]["Policies"]):
        assert statement["Effect"] == "Allow", statement
        resources = statement["Resource"]
        for resource in resources if isinstance(resources, list) else [resources]:
            name = _resource_name(resource)
            if name.startswith(("TableArn", "BucketArn", "EventBusArn", "KmsKeyArn")):
                grants.setdefault(name, set()).update(cfn.actions(statement))
    return grants


def test_api_role_and_task_role_grant_the_same_data_plane_actions() -> None:
    lambda_grants = _grants(ROOT_RAW["Resources"]["ApiFunctionRole"])
    fargate_grants = _grants(FARGATE_RAW["Resources"]["ApiTaskRole"])
    # Table, its indexes, the objects, the bucket, the bus and the key: never an empty compare.
    assert {"TableArn", "BucketArn", "EventBusArn", "KmsKeyArn"} <= set(lambda_grants)
    assert all(lambda_grants.values())
    assert lambda_grants == fargate_grants


# ------------------------------------------------------------------ environment


def _names(field: str) -> tuple[str, ...]:
    alias = Settings.model_fields[field].validation_alias
    if isinstance(alias, AliasChoices):
        return tuple(str(choice) for choice in alias.choices)
    if isinstance(alias, str):
        return (alias,)
    return (f"ORDERS_{field.upper()}",)


REQUIRED = [_names(name) for name, info in Settings.model_fields.items() if info.is_required()]
KNOWN = {variable for name in Settings.model_fields for variable in _names(name)}
# Set for CloudFormation, not for the app: a new value is a new task definition revision,
# so a rotation of the origin secret starts new tasks (cform/fargate.yaml).
NOT_FOR_THE_APP = {"ORDERS_ORIGIN_SECRET_VERSION"}
# The authentication contract's names (auth-contract.md), set by the templates for the app's
# token check.
AUTH_CONTRACT = {"ORDERS_AUTH_ISSUER", "ORDERS_AUTH_CLIENT_IDS"}


def _declared(function: str) -> set[str]:
    """The variables template.yaml declares for one function: Globals' and its own."""
    properties = ROOT_RAW["Resources"][function]["Properties"]
    own = properties.get("Environment", {}).get("Variables", {})
    return set(ROOT_RAW["Globals"]["Function"]["Environment"]["Variables"]) | set(own)


def _template_env() -> set[str]:
    """What the API and outbox functions get: Globals, their own, and Lambda's AWS_REGION."""
    return _declared("ApiFunction") | _declared("OutboxFunction") | {"AWS_REGION"}


def test_sam_local_env_file_gives_each_function_only_what_the_template_declares() -> None:
    """`sam local --env-vars` drops what a function does not declare, silently: a variable
    written for the wrong function in events/local-env.json would look set and not be."""
    document = json.loads((cfn.REPO / "events" / "local-env.json").read_text())
    assert set(document) == {"ApiFunction", "OutboxFunction"}
    for name, variables in document.items():
        declared = _declared(name)
        assert variables, f"{name}: no variables: nothing compared"
        assert set(variables) <= declared, f"{name}: {sorted(set(variables) - declared)}"


def test_only_the_api_function_gets_the_token_settings() -> None:
    """The outbox publisher checks no tokens: a broken token setting must not stop events."""
    outbox_env = _declared("OutboxFunction")
    assert _declared("ApiFunction") >= AUTH_CONTRACT
    assert not {v for v in outbox_env if v.startswith("ORDERS_AUTH_")}, sorted(outbox_env)


def _fargate_env() -> set[str]:
    container = FARGATE_RAW["Resources"]["ApiTaskDefinition"]["Properties"]["ContainerDefinitions"][
        0
    ]
    return {v["Name"] for v in [*container["Environment"], *container.get("Secrets", [])]}


# The token settings devstack gives both API entries (devstack.identity.api_env) next to
# emulator_env (or cloud_env).
LOCAL_AUTH_ENV = set(
    identity.api_env(
        identity.LocalIdentity(
            pool_id="us-east-1_x",
            ui_client_id="ui",
            machine_client_id="machine",
            ui_client_secret_arn="arn:aws:secretsmanager:us-east-1:123456789012:secret:s",
            issuer=identity.issuer_for("us-east-1_x"),
            jwks_url="http://127.0.0.1:1/us-east-1_x/.well-known/jwks.json",
        )
    )
)


OUTPUTS = {n: n for n in ("TableName", "BucketName", "EventBusName", "KmsKeyArn")}
ENVIRONMENTS: dict[str, Callable[[], set[str]]] = {
    "template.yaml": _template_env,
    "cform/fargate.yaml": _fargate_env,
    "devstack.envs.emulator_env": lambda: (
        set(envs.emulator_env(OUTPUTS, "http://127.0.0.1:1")) | LOCAL_AUTH_ENV
    ),
    "devstack.envs.cloud_env": lambda: (
        set(envs.cloud_env(OUTPUTS, "p", "eu-west-1", base={})) | LOCAL_AUTH_ENV
    ),
    "bench.common.function_env": lambda: set(function_env()),
    "devstack.moto_plane.service_env": lambda: set(moto_plane.service_env("key")),
}


@pytest.mark.parametrize("where", ENVIRONMENTS)
def test_every_environment_sets_what_settings_requires_and_nothing_it_does_not_know(
    where: str,
) -> None:
    variables = ENVIRONMENTS[where]()
    assert REQUIRED, "Settings has no required field: this check would compare nothing"
    missing = [names for names in REQUIRED if not set(names) & variables]
    assert not missing, f"{where} does not set {missing}"
    unknown = {v for v in variables if v.startswith("ORDERS_")} - KNOWN - NOT_FOR_THE_APP
    assert not unknown, f"{where} sets {sorted(unknown)}, which orders.settings does not read"


API_ENVIRONMENTS = ["template.yaml", "cform/fargate.yaml"]


@pytest.mark.parametrize("where", API_ENVIRONMENTS)
def test_both_targets_give_the_api_the_token_check_and_the_throttle(where: str) -> None:
    """The same token gets the same answer on every target: both set the issuer, the clients
    and the per-caller limit (their values: tests/infra/test_identity.py)."""
    variables = ENVIRONMENTS[where]()
    assert variables >= AUTH_CONTRACT
    assert _names("rate_limit_per_minute")[0] in variables


def test_the_local_token_settings_are_what_settings_reads() -> None:
    assert LOCAL_AUTH_ENV, "devstack gives the API no token settings: nothing compared"
    unknown = {v for v in LOCAL_AUTH_ENV if v.startswith("ORDERS_")} - KNOWN
    assert not unknown, f"devstack.identity.api_env sets {sorted(unknown)}, unread by Settings"
    # What Settings requires of them, the API entries get (with emulator_env's data plane).
    variables = set(envs.emulator_env(OUTPUTS, "http://127.0.0.1:1")) | LOCAL_AUTH_ENV
    missing = [names for names in REQUIRED if not set(names) & variables]
    assert not missing, f"make dev's API entries do not get {missing}"
    assert "ORDERS_AUTH_ISSUER" in KNOWN


# ------------------------------------------------------------------ table schema


def test_moto_table_is_the_data_stack_table() -> None:
    captured: dict[str, Any] = {}

    class Client:
        def __getattr__(self, name: str) -> Any:
            if name == "create_table":
                return lambda **kwargs: captured.update(kwargs)
            raise _Stop

    class Session:
        def client(self, service: str, **_: Any) -> Any:
            if service == "kms":
                return _Kms()
            return Client()

    with pytest.raises(_Stop):
        moto_plane.create_data_plane(Session())  # type: ignore[arg-type]
    table = DATA_RAW["Resources"]["Table"]["Properties"]
    assert table["KeySchema"]
    assert table["GlobalSecondaryIndexes"]

    def by_name(items: list[dict[str, Any]], key: str) -> dict[str, Any]:
        return {item[key]: item for item in items}

    assert captured["KeySchema"] == table["KeySchema"]
    assert by_name(captured["AttributeDefinitions"], "AttributeName") == by_name(
        table["AttributeDefinitions"], "AttributeName"
    )
    assert by_name(captured["GlobalSecondaryIndexes"], "IndexName") == by_name(
        table["GlobalSecondaryIndexes"], "IndexName"
    )
    assert captured["BillingMode"] == table["BillingMode"]
    assert captured["StreamSpecification"]["StreamEnabled"] is True
    assert (
        captured["StreamSpecification"]["StreamViewType"]
        == table["StreamSpecification"]["StreamViewType"]
    )


class _Stop(Exception):
    """Ends create_data_plane after the table: only its create_table call is compared."""


class _Kms:
    def create_key(self, **_: Any) -> dict[str, Any]:
        return {"KeyMetadata": {"Arn": "arn:aws:kms:us-east-1:123456789012:key/k"}}


# ------------------------------------------------------------------ outbox stream mapping


def _pattern_matches(pattern: Any, value: Any) -> bool:
    """EventBridge-style content filtering, the subset the mapping uses (values, prefix)."""
    if isinstance(pattern, dict):
        return isinstance(value, dict) and all(
            key in value and _pattern_matches(sub, value[key]) for key, sub in pattern.items()
        )
    return any(
        value.startswith(rule["prefix"]) if isinstance(rule, dict) else value == rule
        for rule in pattern
    )


def test_outbox_loop_reads_the_stream_as_the_mapping_does() -> None:
    stream = ROOT_RAW["Resources"]["OutboxFunction"]["Properties"]["Events"]["TableStream"]
    mapping = stream["Properties"]
    assert mapping["StartingPosition"] == outbox_loop.STARTING_POSITION
    assert mapping["BatchSize"] == outbox_loop.BATCH_SIZE
    assert mapping["MaximumRetryAttempts"] == outbox_loop.MAX_RETRY_ATTEMPTS
    (only,) = mapping["FilterCriteria"]["Filters"]
    pattern = json.loads(only["Pattern"])
    records = [
        {"eventName": event, "dynamodb": {"Keys": {"sk": {"S": sk}}}}
        for event in ("INSERT", "MODIFY", "REMOVE")
        for sk in (f"{EVENT_PREFIX}1", "ORDER#1", "IDEMPOTENCY#1", "")
    ]
    verdicts = [(_pattern_matches(pattern, r), outbox_loop.matches_filter(r)) for r in records]
    assert any(template for template, _ in verdicts), "the filter lets nothing through"
    assert all(template == loop for template, loop in verdicts), verdicts


# ------------------------------------------------------------------ the API's path prefix


def test_every_route_the_edge_and_the_local_gateway_know_is_under_the_apps_prefix() -> None:
    """The app mounts its routers under API_PREFIX; the HTTP API's routes (template.yaml)
    and the local stand-in for them (devstack.apigw_local) repeat it, since a template
    cannot import it and the stand-in stays free of the app's imports."""
    events = ROOT_RAW["Resources"]["ApiFunction"]["Properties"]["Events"]
    paths = [event["Properties"]["Path"] for event in events.values() if event["Type"] == "HttpApi"]
    assert paths, "the API function has no HttpApi routes"
    assert all(p == API_PREFIX or p.startswith(f"{API_PREFIX}/") for p in paths), paths
    assert apigw_local.API_PREFIX == API_PREFIX
