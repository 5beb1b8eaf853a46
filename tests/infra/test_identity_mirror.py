"""The local identity (devstack.identity, created in moto by `make dev`) is the cloud's
(cform/identity.yaml, the IdentityStack): the same resource server and scopes, the same
client flows, the same group, and the outputs `make dev AWS_PROFILE=...` reads.

moto's CloudFormation has no Cognito, so the template cannot be deployed into the
emulator; this test is what keeps the two copies one.
"""

from __future__ import annotations

from typing import Any

from devstack import identity
from tests.infra import cfn

IDENTITY_TEMPLATE = cfn.CFORM / "identity.yaml"


def template() -> dict[str, Any]:
    return cfn.load(IDENTITY_TEMPLATE)


def resource(raw: dict[str, Any], name: str, resource_type: str) -> dict[str, Any]:
    found = raw["Resources"].get(name)
    assert found is not None, f"identity.yaml has no {name}"
    assert found["Type"] == resource_type, found["Type"]
    properties: dict[str, Any] = found.get("Properties", {})
    return properties


def literal(raw: dict[str, Any], node: Any) -> Any:
    """A value as a deployed stack has it: parameters by their defaults, the resource
    server's Ref as its Identifier (what CloudFormation returns), !Sub and !Join applied."""
    if isinstance(node, dict) and set(node) == {"Ref"}:
        name = node["Ref"]
        if name in raw.get("Parameters", {}):
            return literal(raw, raw["Parameters"][name]["Default"])
        if raw["Resources"].get(name, {}).get("Type") == "AWS::Cognito::UserPoolResourceServer":
            return literal(raw, raw["Resources"][name]["Properties"]["Identifier"])
        raise AssertionError(f"cannot resolve Ref {name}")
    if isinstance(node, dict) and set(node) == {"Fn::Sub"}:
        text, variables = (
            (node["Fn::Sub"], {}) if isinstance(node["Fn::Sub"], str) else node["Fn::Sub"]
        )

        def value(name: str) -> str:
            if name in variables:
                return str(literal(raw, variables[name]))
            return str(literal(raw, {"Ref": name}))

        out, rest = "", text
        while "${" in rest:
            before, _, after = rest.partition("${")
            name, _, rest = after.partition("}")
            out += before + value(name)
        return out + rest
    if isinstance(node, dict) and set(node) == {"Fn::Join"}:
        separator, parts = node["Fn::Join"]
        return separator.join(str(literal(raw, part)) for part in parts)
    if isinstance(node, list):
        return [literal(raw, item) for item in node]
    assert not isinstance(node, dict), f"unexpected intrinsic {node!r}"
    return node


def test_the_resource_server_and_its_scopes_are_the_same() -> None:
    raw = template()
    server = resource(raw, "ResourceServer", "AWS::Cognito::UserPoolResourceServer")
    assert literal(raw, server["Identifier"]) == identity.RESOURCE_SERVER.identifier
    scopes = [literal(raw, s["ScopeName"]) for s in server["Scopes"]]
    assert sorted(scopes) == sorted(identity.RESOURCE_SERVER.scopes)


def test_the_ui_client_signs_people_in_the_same_way() -> None:
    raw = template()
    client = resource(raw, "UiClient", "AWS::Cognito::UserPoolClient")
    assert identity.UI_CLIENT.explicit_auth_flows
    assert sorted(literal(raw, client["ExplicitAuthFlows"])) == sorted(
        identity.UI_CLIENT.explicit_auth_flows
    )
    assert literal(raw, client.get("GenerateSecret", False)) is identity.UI_CLIENT.generate_secret


def test_the_machine_client_has_the_same_grant_and_scopes() -> None:
    raw = template()
    client = resource(raw, "MachineClient", "AWS::Cognito::UserPoolClient")
    assert literal(raw, client["AllowedOAuthFlows"]) == list(identity.MACHINE_CLIENT.oauth_flows)
    assert literal(raw, client.get("AllowedOAuthFlowsUserPoolClient")) is True
    assert sorted(literal(raw, client["AllowedOAuthScopes"])) == sorted(
        identity.MACHINE_CLIENT.oauth_scopes
    )
    assert (
        literal(raw, client.get("GenerateSecret", False)) is identity.MACHINE_CLIENT.generate_secret
    )


def test_the_operators_group_has_the_same_name() -> None:
    raw = template()
    group = resource(raw, "OperatorsGroup", "AWS::Cognito::UserPoolGroup")
    assert literal(raw, group["GroupName"]) == identity.OPERATORS_GROUP
    # and a demo user of the local pool is in it: the roles are exercised locally
    assert [u.username for u in identity.USERS if identity.OPERATORS_GROUP in u.groups]


def test_the_ui_client_secret_is_kept_encrypted_in_secrets_manager() -> None:
    raw = template()
    secret = resource(raw, "UiClientSecret", "AWS::SecretsManager::Secret")
    # Locally the secret is encrypted with the data stack's key too (devstack.identity_provision)
    assert secret.get("KmsKeyId"), "UiClientSecret is not encrypted with the shared key"


def test_the_outputs_name_what_make_dev_reads_from_a_deployed_stack() -> None:
    outputs = template().get("Outputs", {})
    assert set(identity.ISSUER_OUTPUTS) & set(outputs), "identity.yaml outputs no issuer"
    missing = [name for name in identity.CLIENT_OUTPUTS if name not in outputs]
    assert not missing, f"identity.yaml does not output {missing}"


def test_the_root_stack_re_exports_them_for_make_dev_against_a_deployed_stack() -> None:
    # `make dev AWS_PROFILE=...` reads the root stack's outputs (devstack.identity.from_outputs)
    outputs = cfn.load(cfn.ROOT_TEMPLATE).get("Outputs", {})
    assert set(identity.ISSUER_OUTPUTS) & set(outputs), "template.yaml outputs no issuer"
    missing = [name for name in identity.CLIENT_OUTPUTS if name not in outputs]
    assert not missing, f"template.yaml does not output {missing}"
