"""Identity on AWS (issue 11): the user pool stack, the edge's JWT check per route, the API's
and the UI's environment and rights, and the throttles at the edge.

The names checked here are the shared contract's (auth-contract.md): the identity stack's
resources and outputs, the resource server and its scopes, the operators group, and the
environment variables the app and the UI read.
"""

from __future__ import annotations

import re
from typing import Any

import pytest

from orders.app import create_app
from tests.fakes import Fakes
from tests.infra import cfn
from tests.infra.tooling import RAW_TEMPLATES, SCENARIOS

IDENTITY = cfn.CFORM / "identity.yaml"
IDENTITY_RAW = cfn.load(IDENTITY)
ROOT_RAW = cfn.load(cfn.ROOT_TEMPLATE)
FARGATE_RAW = cfn.load(cfn.CFORM / "fargate.yaml")

CONTRACT_RESOURCES = {
    "UserPool": "AWS::Cognito::UserPool",
    "UserPoolDomain": "AWS::Cognito::UserPoolDomain",
    "ResourceServer": "AWS::Cognito::UserPoolResourceServer",
    "UiClient": "AWS::Cognito::UserPoolClient",
    "MachineClient": "AWS::Cognito::UserPoolClient",
    "OperatorsGroup": "AWS::Cognito::UserPoolGroup",
    "UiClientSecret": "AWS::SecretsManager::Secret",
}
CONTRACT_OUTPUTS = {
    "UserPoolId", "UserPoolArn", "Issuer", "JwksUrl", "UiClientId", "MachineClientId",
    "UiClientSecretArn", "TokenUrl",
}  # fmt: skip
# Routes a caller reaches without a token (auth-contract.md, "Public routes").
PUBLIC_PATHS = {"/api/health", "/api/ready", "/api/docs", "/api/openapi.json"}
LAMBDA_SCENARIOS = [name for name, p in SCENARIOS.items() if p["DeploymentTarget"] != "fargate"]
FARGATE_SCENARIOS = [name for name, p in SCENARIOS.items() if p["DeploymentTarget"] != "lambda"]


def identity_for(**params: Any) -> dict[str, Any]:
    given = {"DomainPrefix": "orders-123456789012", "KmsKeyArn": "arn:key", **params}
    return cfn.resolve(IDENTITY_RAW, given)


def identity_output(name: str) -> dict[str, Any]:
    return {"Fn::GetAtt": ["IdentityStack", f"Outputs.{name}"]}


CLIENT_IDS = {
    "Fn::Sub": "${IdentityStack.Outputs.UiClientId},${IdentityStack.Outputs.MachineClientId}"
}


# ------------------------------------------------------------------ the identity stack


def test_the_identity_stack_has_the_contracts_resources_and_outputs() -> None:
    types = {name: r["Type"] for name, r in IDENTITY_RAW["Resources"].items()}
    assert types == CONTRACT_RESOURCES
    assert set(IDENTITY_RAW["Outputs"]) == CONTRACT_OUTPUTS
    assert all(out.get("Description") for out in IDENTITY_RAW["Outputs"].values())


def test_users_and_operators_survive_a_delete_a_replacement_and_a_switch() -> None:
    resources = identity_for()["Resources"]
    for name in ("UserPool", "OperatorsGroup"):
        assert resources[name]["DeletionPolicy"] == "Retain", name
        assert resources[name]["UpdateReplacePolicy"] == "Retain", name
    assert resources["UserPool"]["Properties"]["DeletionProtection"] == "ACTIVE"
    off = identity_for(DeletionProtection="false")["Resources"]["UserPool"]["Properties"]
    assert off["DeletionProtection"] == "INACTIVE"
    # Every target, like the data: no Condition on the nested stack.
    stack = ROOT_RAW["Resources"]["IdentityStack"]
    assert "Condition" not in stack
    assert stack["Properties"]["TemplateURL"] == "cform/identity.yaml"
    assert stack["Properties"]["Parameters"]["DeletionProtection"] == {"Ref": "DeletionProtection"}


def test_the_pool_is_locked_down_by_default() -> None:
    pool = identity_for()["Resources"]["UserPool"]["Properties"]
    password = pool["Policies"]["PasswordPolicy"]
    assert password["MinimumLength"] >= 12
    assert all(
        password[f"Require{kind}"] for kind in ("Lowercase", "Uppercase", "Numbers", "Symbols")
    )
    assert pool["MfaConfiguration"] == "OPTIONAL"
    assert pool["EnabledMfas"] == ["SOFTWARE_TOKEN_MFA"]
    assert pool["AdminCreateUserConfig"]["AllowAdminCreateUserOnly"] is True
    # Threat protection costs the Plus tier: off unless asked for.
    assert pool["UserPoolTier"] == "ESSENTIALS"
    assert "UserPoolAddOns" not in pool
    audit = identity_for(ThreatProtection="AUDIT")["Resources"]["UserPool"]["Properties"]
    assert audit["UserPoolTier"] == "PLUS"
    assert audit["UserPoolAddOns"] == {"AdvancedSecurityMode": {"Ref": "ThreatProtection"}}
    passed = ROOT_RAW["Resources"]["IdentityStack"]["Properties"]["Parameters"]
    assert passed["ThreatProtection"] == {"Ref": "AuthThreatProtection"}
    assert (
        ROOT_RAW["Parameters"]["AuthThreatProtection"]["AllowedValues"]
        == IDENTITY_RAW["Parameters"]["ThreatProtection"]["AllowedValues"]
    )


def test_the_clients_flows_and_scopes_are_the_contracts() -> None:
    resources = identity_for()["Resources"]
    server = resources["ResourceServer"]["Properties"]
    assert server["Identifier"] == "orders"
    scopes = {f"{server['Identifier']}/{s['ScopeName']}" for s in server["Scopes"]}
    assert scopes == {"orders/read", "orders/write"}

    ui = resources["UiClient"]["Properties"]
    assert set(ui["ExplicitAuthFlows"]) == {
        "ALLOW_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH", "ALLOW_USER_SRP_AUTH",
    }  # fmt: skip
    assert ui["GenerateSecret"] is True
    assert ui["PreventUserExistenceErrors"] == "ENABLED"
    assert "AllowedOAuthFlows" not in ui

    machine = resources["MachineClient"]
    props = machine["Properties"]
    assert props["AllowedOAuthFlows"] == ["client_credentials"]
    assert props["AllowedOAuthFlowsUserPoolClient"] is True
    assert set(props["AllowedOAuthScopes"]) == scopes
    assert props["GenerateSecret"] is True
    assert "ALLOW_USER_PASSWORD_AUTH" not in props["ExplicitAuthFlows"]
    # The scopes must exist before the client is allowed them.
    assert machine["DependsOn"] == "ResourceServer"

    assert resources["OperatorsGroup"]["Properties"]["GroupName"] == "operators"


def test_the_ui_clients_secret_is_kept_under_the_shared_key_and_never_written_out() -> None:
    secret = identity_for()["Resources"]["UiClientSecret"]["Properties"]
    assert secret["KmsKeyId"] == {"Ref": "KmsKeyArn"}
    assert secret["SecretString"] == {"Fn::GetAtt": ["UiClient", "ClientSecret"]}
    passed = ROOT_RAW["Resources"]["IdentityStack"]["Properties"]["Parameters"]
    assert passed["KmsKeyArn"] == {"Fn::GetAtt": ["DataStack", "Outputs.KmsKeyArn"]}
    # No output, parameter or environment carries the value, only the ARN.
    texts = [path.read_text() for path in RAW_TEMPLATES]
    assert sum(len(re.findall(r"\.ClientSecret\b", text)) for text in texts) == 1


def test_the_outputs_are_what_the_app_and_clients_expect() -> None:
    outputs = IDENTITY_RAW["Outputs"]
    assert outputs["Issuer"]["Value"] == {"Fn::Sub": "https://${UserPool.ProviderURL}"}
    assert outputs["JwksUrl"]["Value"] == {
        "Fn::Sub": "https://${UserPool.ProviderURL}/.well-known/jwks.json"
    }
    assert outputs["TokenUrl"]["Value"] == {
        "Fn::Sub": "https://${UserPoolDomain}.auth.${AWS::Region}.amazoncognito.com/oauth2/token"
    }
    # The domain prefix is derived from the stack name (and the account: prefixes are global).
    passed = ROOT_RAW["Resources"]["IdentityStack"]["Properties"]["Parameters"]
    assert passed["DomainPrefix"] == {"Fn::Sub": "${AWS::StackName}-${AWS::AccountId}"}


@pytest.mark.parametrize("target", list(SCENARIOS))
def test_every_target_deploys_the_identity_stack(
    expanded: dict[str, dict[str, Any]], target: str
) -> None:
    assert expanded[target]["Resources"]["IdentityStack"]["Type"] == "AWS::CloudFormation::Stack"


# ------------------------------------------------------------------ the edge (lambda, both)


def _routes(template: dict[str, Any]) -> dict[tuple[str, str], list[dict[str, Any]]]:
    """(path, method) -> the security requirement of every route of the HTTP API's body."""
    body = template["Resources"]["HttpApi"]["Properties"]["Body"]
    return {
        (path, method): operation.get("security", [])
        for path, item in body["paths"].items()
        for method, operation in item.items()
    }


@pytest.mark.parametrize("target", LAMBDA_SCENARIOS)
def test_every_route_but_the_public_ones_needs_the_jwt_authorizer(
    expanded: dict[str, dict[str, Any]], target: str
) -> None:
    routes = _routes(expanded[target])
    public = {path for (path, _), security in routes.items() if security == [{"NONE": []}]}
    protected = {key for key, security in routes.items() if security == [{"CognitoJwt": []}]}
    assert public == PUBLIC_PATHS
    assert {(p, m) for p, m in routes if p in PUBLIC_PATHS} == {(p, "get") for p in PUBLIC_PATHS}
    assert protected == {
        ("/api/{proxy+}", "x-amazon-apigateway-any-method"),
        ("/api", "x-amazon-apigateway-any-method"),
    }
    assert len(routes) == len(public) + len(protected)


def test_the_public_routes_are_the_apps_own() -> None:
    """A renamed public route in the app must not leave the edge guarding (or opening) the old."""
    served = {
        (path, method)
        for path, item in create_app(Fakes().container()).openapi()["paths"].items()
        for method in item
    }
    served |= {("/api/docs", "get"), ("/api/openapi.json", "get")}  # FastAPI's own
    assert {(p, "get") for p in PUBLIC_PATHS} <= served


@pytest.mark.parametrize("target", LAMBDA_SCENARIOS)
def test_the_authorizer_checks_the_pools_issuer_and_both_clients(
    expanded: dict[str, dict[str, Any]], target: str
) -> None:
    body = expanded[target]["Resources"]["HttpApi"]["Properties"]["Body"]
    scheme = body["components"]["securitySchemes"]["CognitoJwt"]
    authorizer = scheme["x-amazon-apigateway-authorizer"]
    assert authorizer["type"] == "jwt"
    assert authorizer["identitySource"] == "$request.header.Authorization"
    assert authorizer["jwtConfiguration"] == {
        "issuer": identity_output("Issuer"),
        "audience": [identity_output("UiClientId"), identity_output("MachineClientId")],
    }


@pytest.mark.parametrize("target", LAMBDA_SCENARIOS)
def test_the_stage_throttles_every_route_by_default(
    expanded: dict[str, dict[str, Any]], target: str
) -> None:
    stage = expanded[target]["Resources"]["HttpApiApiGatewayDefaultStage"]["Properties"]
    settings = stage["DefaultRouteSettings"]
    assert settings["ThrottlingRateLimit"] == {"Ref": "ApiThrottlingRateLimit"}
    assert settings["ThrottlingBurstLimit"] == {"Ref": "ApiThrottlingBurstLimit"}


@pytest.mark.parametrize("target", LAMBDA_SCENARIOS)
def test_the_front_door_waits_for_every_routes_invoke_permission(
    expanded: dict[str, dict[str, Any]], target: str
) -> None:
    resources = expanded[target]["Resources"]
    permissions = {n for n, r in resources.items() if r["Type"] == "AWS::Lambda::Permission"}
    permissions = {n for n in permissions if n.startswith("ApiFunction")}
    assert len(permissions) == 6
    edge = ROOT_RAW["Resources"]["EdgeStack"]["Properties"]["Parameters"]["HttpApiDomainName"]
    waited = {
        item["Ref"]
        for item in edge["Fn::If"][1]["Fn::Select"][1]
        if isinstance(item, dict) and set(item) == {"Ref"}
    }
    assert permissions <= waited


# ------------------------------------------------------------------ the environment


AUTH_ENV = {
    "ORDERS_AUTH_ISSUER": identity_output("Issuer"),
    "ORDERS_AUTH_CLIENT_IDS": CLIENT_IDS,
    "ORDERS_RATE_LIMIT_PER_MINUTE": {"Ref": "RateLimitPerMinute"},
}


@pytest.mark.parametrize("target", LAMBDA_SCENARIOS)
def test_the_function_gets_the_issuer_the_clients_and_the_limit(
    expanded: dict[str, dict[str, Any]], target: str
) -> None:
    variables = expanded[target]["Resources"]["ApiFunction"]["Properties"]["Environment"][
        "Variables"
    ]
    assert {k: variables[k] for k in AUTH_ENV} == AUTH_ENV


@pytest.mark.parametrize("target", FARGATE_SCENARIOS)
def test_the_api_task_gets_the_same_values_as_the_function(
    expanded: dict[str, dict[str, Any]], target: str
) -> None:
    passed = expanded[target]["Resources"]["FargateStack"]["Properties"]["Parameters"]
    assert passed["AuthIssuer"] == AUTH_ENV["ORDERS_AUTH_ISSUER"]
    assert passed["AuthClientIds"] == AUTH_ENV["ORDERS_AUTH_CLIENT_IDS"]
    assert passed["RateLimitPerMinute"] == AUTH_ENV["ORDERS_RATE_LIMIT_PER_MINUTE"]
    (api, *_) = FARGATE_RAW["Resources"]["ApiTaskDefinition"]["Properties"]["ContainerDefinitions"]
    env = {e["Name"]: e["Value"] for e in api["Environment"]}
    assert env["ORDERS_AUTH_ISSUER"] == {"Ref": "AuthIssuer"}
    assert env["ORDERS_AUTH_CLIENT_IDS"] == {"Ref": "AuthClientIds"}
    assert env["ORDERS_RATE_LIMIT_PER_MINUTE"] == {"Ref": "RateLimitPerMinute"}
    # No default: the app refuses to start without an issuer, so neither may the stack.
    assert "Default" not in FARGATE_RAW["Parameters"]["AuthIssuer"]


def _ui(**params: Any) -> dict[str, Any]:
    given = {
        "VpcId": "vpc-1", "PrivateSubnetIds": "subnet-1", "ApiImageUri": "api", "UiImageUri": "ui",
        "OriginSecretArn": "arn:origin", "TableName": "t", "TableArn": "arn:t", "BucketName": "b",
        "BucketArn": "arn:b", "EventBusName": "e", "EventBusArn": "arn:e", "KmsKeyArn": "arn:k",
        "AuthIssuer": "https://issuer", "AuthClientIds": "a,b", **params,
    }  # fmt: skip
    resources: dict[str, Any] = cfn.resolve(FARGATE_RAW, given)["Resources"]
    return resources


@pytest.mark.parametrize("target", FARGATE_SCENARIOS)
def test_the_ui_task_gets_its_client_id_and_the_secrets_arn(
    expanded: dict[str, dict[str, Any]], target: str
) -> None:
    passed = expanded[target]["Resources"]["FargateStack"]["Properties"]["Parameters"]
    assert passed["UiCognitoClientId"] == identity_output("UiClientId")
    assert passed["UiCognitoClientSecretArn"] == identity_output("UiClientSecretArn")
    (ui,) = _ui(UiCognitoClientSecretArn="arn:s")["UiTaskDefinition"]["Properties"][
        "ContainerDefinitions"
    ]
    env = {e["Name"]: e["Value"] for e in ui["Environment"]}
    assert env["ORDERS_UI_COGNITO_CLIENT_ID"] == {"Ref": "UiCognitoClientId"}
    assert env["ORDERS_UI_COGNITO_CLIENT_SECRET_ARN"] == {"Ref": "UiCognitoClientSecretArn"}
    assert "Secrets" not in ui  # read by ARN at run time, never injected as a value


def test_the_ui_may_read_its_one_secret_and_decrypt_it_only_through_secrets_manager() -> None:
    role = _ui(UiCognitoClientSecretArn="arn:s")["UiTaskRole"]["Properties"]
    statements = cfn.policy_statements(role["Policies"])
    grants = {(tuple(cfn.actions(s)), str(s["Resource"])): s for s in statements}
    assert set(grants) == {
        (("secretsmanager:GetSecretValue",), str({"Ref": "UiCognitoClientSecretArn"})),
        (("kms:Decrypt",), str({"Ref": "KmsKeyArn"})),
    }
    decrypt = grants[(("kms:Decrypt",), str({"Ref": "KmsKeyArn"}))]
    assert decrypt["Condition"]["StringEquals"] == {
        "kms:ViaService": {"Fn::Sub": "secretsmanager.${AWS::Region}.amazonaws.com"},
        "kms:EncryptionContext:SecretARN": {"Ref": "UiCognitoClientSecretArn"},
    }
    # Without a secret (a stack deployed alone, no identity), the UI's role grants nothing.
    assert "Policies" not in _ui()["UiTaskRole"]["Properties"]


# ------------------------------------------------------------------ throttling at the edge


def _web_acl(**params: Any) -> dict[str, Any]:
    given = {"OriginKind": "http-api", "OriginSecretArn": "arn:s", "KmsKeyArn": "arn:k"}
    edge = cfn.resolve(cfn.load(cfn.CFORM / "edge.yaml"), {**given, "EnableWaf": "true", **params})
    (acl,) = cfn.by_type(edge, "AWS::WAFv2::WebACL").values()
    return dict(acl["Properties"])


def test_waf_limits_each_bearer_token_and_anonymous_traffic_per_ip() -> None:
    acl = _web_acl()
    rules = {rule["Name"]: rule for rule in acl["Rules"]}
    per_caller = rules["rate-limit-per-caller"]["Statement"]["RateBasedStatement"]
    assert per_caller["AggregateKeyType"] == "CUSTOM_KEYS"
    assert per_caller["CustomKeys"] == [
        {
            "Header": {
                "Name": "authorization",
                "TextTransformations": [{"Priority": 0, "Type": "NONE"}],
            }
        }
    ]
    assert per_caller["Limit"] == {"Ref": "RateLimitPerCallerPer5Minutes"}

    per_ip = rules["rate-limit-per-ip"]["Statement"]["RateBasedStatement"]
    assert per_ip["AggregateKeyType"] == "IP"
    # Only requests without a bearer token: many callers may share one NAT address.
    without_token = per_ip["ScopeDownStatement"]["NotStatement"]["Statement"]
    size = without_token["SizeConstraintStatement"]
    assert size["FieldToMatch"] == {"SingleHeader": {"Name": "authorization"}}
    assert (size["ComparisonOperator"], size["Size"]) == ("GT", 0)

    # The rate rules come first, and answer like the app: 429 with Retry-After.
    assert sorted(r["Priority"] for r in acl["Rules"]) == list(range(len(acl["Rules"])))
    for name in ("rate-limit-per-caller", "rate-limit-per-ip"):
        assert rules[name]["Priority"] < 2
        response = rules[name]["Action"]["Block"]["CustomResponse"]
        assert response["ResponseCode"] == 429
        assert [h["Name"].lower() for h in response["ResponseHeaders"]] == ["retry-after"]
        assert response["CustomResponseBodyKey"] in acl["CustomResponseBodies"]


def test_the_edge_limit_per_caller_sits_above_the_apps() -> None:
    """WAF stops callers that ignore the app's 429s; it must never be the tighter limit."""
    root = ROOT_RAW["Parameters"]
    app_per_5_minutes = int(root["RateLimitPerMinute"]["Default"]) * 5
    assert int(root["EdgeRateLimitPerCallerPer5Minutes"]["Default"]) > app_per_5_minutes
    passed = ROOT_RAW["Resources"]["EdgeStack"]["Properties"]["Parameters"]
    assert passed["RateLimitPerCallerPer5Minutes"] == {"Ref": "EdgeRateLimitPerCallerPer5Minutes"}
