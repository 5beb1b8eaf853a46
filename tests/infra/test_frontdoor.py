"""The front door: one CloudFront distribution on every target, its origin per target, nothing
reachable around it, the origin secret by reference only, WAF and a custom domain optional."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from orders.api.origin_check import EXEMPT_PATHS, HEADER
from tests.infra import cfn
from tests.infra.tooling import RAW_TEMPLATES, SCENARIOS

CERT = "arn:aws:acm:us-east-1:123456789012:certificate/x"
# Resources that cost money every month whether or not a request comes.
FIXED_COST_TYPES = {
    "AWS::EC2::NatGateway", "AWS::ElasticLoadBalancingV2::LoadBalancer", "AWS::ECS::Service",
    "AWS::WAFv2::WebACL", "AWS::CloudFront::VpcOrigin", "AWS::EC2::VPCEndpoint",
}  # fmt: skip


@pytest.fixture(scope="module")
def deployed(expanded: dict[str, dict[str, Any]]) -> dict[str, dict[str, dict[str, Any]]]:
    return {name: cfn.deployed_stacks(expanded[name], SCENARIOS[name]) for name in SCENARIOS}


def edge_for(**params: Any) -> dict[str, Any]:
    """cform/edge.yaml as the root deploys it with these root parameters (raw root resolved)."""
    scenario = {**SCENARIOS["lambda"], **params}
    root = cfn.resolve(cfn.load(cfn.ROOT_TEMPLATE), scenario)
    return cfn.deployed_stacks(root, scenario)["EdgeStack"]


def only_origin(edge: dict[str, Any]) -> dict[str, Any]:
    (origin,) = edge["Resources"]["Distribution"]["Properties"]["DistributionConfig"]["Origins"]
    return dict(origin)


@pytest.mark.parametrize("target", list(SCENARIOS))
def test_every_target_has_the_one_front_door(
    deployed: dict[str, dict[str, dict[str, Any]]], target: str
) -> None:
    root = deployed[target]["root"]
    raw = cfn.load(cfn.ROOT_TEMPLATE)["Resources"]["EdgeStack"]
    assert "Condition" not in raw
    assert root["Resources"]["EdgeStack"]["Properties"]["TemplateURL"] == "cform/edge.yaml"
    distribution = cfn.load(cfn.CFORM / "edge.yaml")["Resources"]["Distribution"]
    assert "Condition" not in distribution
    assert root["Outputs"]["ApiBaseUrl"]["Value"] == {
        "Fn::GetAtt": ["EdgeStack", "Outputs.DistributionUrl"]
    }


@pytest.mark.parametrize("target", list(SCENARIOS))
def test_the_origin_is_the_http_api_on_lambda_and_the_internal_alb_otherwise(
    deployed: dict[str, dict[str, dict[str, Any]]], target: str
) -> None:
    stacks = deployed[target]
    edge = stacks["EdgeStack"]
    origin = only_origin(edge)
    passed = stacks["root"]["Resources"]["EdgeStack"]["Properties"]["Parameters"]
    if target == "lambda":
        assert passed["OriginKind"] == "http-api"
        assert origin["CustomOriginConfig"]["OriginProtocolPolicy"] == "https-only"
        assert "VpcOrigin" not in edge["Resources"]
        domain = passed["HttpApiDomainName"]["Fn::Select"][1][0]
        assert domain == {"Fn::Sub": "${HttpApi}.execute-api.${AWS::Region}.${AWS::URLSuffix}"}
    else:
        assert passed["OriginKind"] == "load-balancer"
        assert origin["VpcOriginConfig"]["VpcOriginId"] == {"Fn::GetAtt": ["VpcOrigin", "Id"]}
        assert passed["LoadBalancerArn"] == {
            "Fn::GetAtt": ["FargateStack", "Outputs.LoadBalancerArn"]
        }
        vpc_origin = edge["Resources"]["VpcOrigin"]["Properties"]["VpcOriginEndpointConfig"]
        assert vpc_origin["Arn"] == {"Ref": "LoadBalancerArn"}
        # The ALB is private: no public scheme, no public subnet, no internet ingress.
        fargate = stacks["FargateStack"]["Resources"]
        alb = fargate["LoadBalancer"]["Properties"]
        assert alb["Scheme"] == "internal"
        assert alb["Subnets"] == {"Ref": "PrivateSubnetIds"}
        ingress = fargate["LoadBalancerSecurityGroup"]["Properties"]["SecurityGroupIngress"]
        assert [rule["CidrIp"] for rule in ingress] == [{"Ref": "VpcCidr"}]
        attributes = {a["Key"]: a["Value"] for a in alb["LoadBalancerAttributes"]}
        # The app trusts a request without X-Forwarded-For as one from inside the VPC.
        assert attributes["routing.http.xff_header_processing.mode"] == "append"


def test_https_without_a_domain_of_ones_own_and_an_optional_alias() -> None:
    plain = edge_for()["Resources"]["Distribution"]["Properties"]["DistributionConfig"]
    assert plain["ViewerCertificate"] == {"CloudFrontDefaultCertificate": True}
    assert "Aliases" not in plain
    assert plain["DefaultCacheBehavior"]["ViewerProtocolPolicy"] == "redirect-to-https"
    named = edge_for(CertificateArn=CERT, DomainName="orders.example.com")
    config = named["Resources"]["Distribution"]["Properties"]["DistributionConfig"]
    assert config["Aliases"] == [{"Ref": "DomainName"}]
    assert config["ViewerCertificate"]["AcmCertificateArn"] == {"Ref": "CertificateArn"}
    assert config["ViewerCertificate"]["MinimumProtocolVersion"] == "TLSv1.2_2021"
    assert named["Outputs"]["DistributionUrl"]["Value"] == {"Fn::Sub": "https://${DomainName}"}


def test_waf_is_optional_and_off_by_default() -> None:
    off = edge_for()
    assert not cfn.by_type(off, "AWS::WAFv2::WebACL")
    assert "WebACLId" not in off["Resources"]["Distribution"]["Properties"]["DistributionConfig"]
    on = edge_for(EnableWaf="true")
    (acl,) = cfn.by_type(on, "AWS::WAFv2::WebACL").values()
    managed = {
        r["Statement"]["ManagedRuleGroupStatement"]["Name"]
        for r in acl["Properties"]["Rules"]
        if "ManagedRuleGroupStatement" in r["Statement"]
    }
    assert {"AWSManagedRulesCommonRuleSet", "AWSManagedRulesKnownBadInputsRuleSet"} <= managed
    config = on["Resources"]["Distribution"]["Properties"]["DistributionConfig"]
    assert config["WebACLId"] == {"Fn::GetAtt": ["WebAcl", "Arn"]}


def test_the_lambda_target_adds_nothing_with_a_monthly_fee(
    deployed: dict[str, dict[str, dict[str, Any]]],
) -> None:
    """CloudFront charges per request; the one fixed cost the front door adds is the origin
    secret ($0.40/month, cform/README.md)."""
    types = {r["Type"] for t in deployed["lambda"].values() for r in t["Resources"].values()}
    assert not types & FIXED_COST_TYPES


def test_websockets_and_cookies_reach_the_origin_and_nothing_is_cached() -> None:
    behaviour = edge_for()["Resources"]["Distribution"]["Properties"]["DistributionConfig"][
        "DefaultCacheBehavior"
    ]
    # AWS managed: CachingDisabled; AllViewerExceptHostHeader forwards every viewer header
    # (Upgrade, Sec-WebSocket-*), cookie and query string, which a WebSocket upgrade needs.
    assert behaviour["CachePolicyId"] == "4135ea2d-6df8-44a3-9df3-4b5a84be39ad"
    assert behaviour["OriginRequestPolicyId"] == "b689b0a8-53d0-40ab-baf2-68738e2966ac"
    assert {"GET", "POST", "PUT", "PATCH", "DELETE"} <= set(behaviour["AllowedMethods"])


@pytest.mark.parametrize("target", list(SCENARIOS))
def test_cloudfront_sends_the_secret_header_by_dynamic_reference(
    deployed: dict[str, dict[str, dict[str, Any]]], target: str
) -> None:
    (header,) = only_origin(deployed[target]["EdgeStack"])["OriginCustomHeaders"]
    assert header["HeaderName"].lower().encode() == HEADER
    assert header["HeaderValue"] == {
        "Fn::Sub": "{{resolve:secretsmanager:${OriginSecretArn}:SecretString}}"
    }
    passed = deployed[target]["root"]["Resources"]["EdgeStack"]["Properties"]["Parameters"]
    assert passed["OriginSecretArn"] == {"Ref": "OriginSecret"}


def test_the_secret_is_generated_by_secrets_manager_under_the_shared_key(
    deployed: dict[str, dict[str, dict[str, Any]]],
) -> None:
    assert set(deployed) == set(SCENARIOS), "no target to check"
    for stacks in deployed.values():
        secret = stacks["root"]["Resources"]["OriginSecret"]
        assert "Condition" not in secret
        props = secret["Properties"]
        assert props["KmsKeyId"] == {"Fn::GetAtt": ["DataStack", "Outputs.KmsKeyArn"]}
        assert props["GenerateSecretString"]["PasswordLength"] >= 32
        assert "SecretString" not in props


@pytest.mark.parametrize("path", RAW_TEMPLATES, ids=lambda p: p.name)
def test_no_template_holds_a_secret_value(path: Any) -> None:
    text = path.read_text()
    # A SecretString is only ever another resource's generated secret (Cognito's client secret).
    for line in text.replace("GenerateSecretString:", "").splitlines():
        if "SecretString:" in line:
            assert re.fullmatch(r"\s*SecretString: !GetAtt \w+\.ClientSecret", line), line
    for name in ("ORDERS_ORIGIN_SECRET", "X-Origin-Verify"):
        for line in text.splitlines():
            if name in line and "Value:" in line and "HeaderName" not in line:
                assert "resolve:secretsmanager" in line or "Ref" in line, line


@pytest.mark.parametrize("target", list(SCENARIOS))
def test_both_targets_get_the_secret_by_reference(
    deployed: dict[str, dict[str, dict[str, Any]]], target: str
) -> None:
    stacks = deployed[target]
    resources = stacks["root"]["Resources"]
    if target != "fargate":
        # The function: the ARN in its environment, read at run time with its own role.
        env = resources["ApiFunction"]["Properties"]["Environment"]["Variables"]
        assert env["ORDERS_ORIGIN_SECRET_ARN"] == {"Ref": "OriginSecret"}
        statements = cfn.policy_statements(resources["ApiFunctionRole"])
        reads = [s for s in statements if "secretsmanager:GetSecretValue" in cfn.actions(s)]
        assert [s["Resource"] for s in reads] == [{"Ref": "OriginSecret"}]
        assert "ORDERS_ORIGIN_SECRET" not in env
    if target != "lambda":
        # The task: ECS injects the value at start from the ARN (container Secrets).
        fargate = stacks["FargateStack"]["Resources"]
        containers = fargate["ApiTaskDefinition"]["Properties"]["ContainerDefinitions"]
        api = next(c for c in containers if c["Name"] == "api")
        assert api["Secrets"] == [
            {"Name": "ORDERS_ORIGIN_SECRET", "ValueFrom": {"Ref": "OriginSecretArn"}}
        ]
        env = {e["Name"]: e["Value"] for e in api["Environment"]}
        assert "ORDERS_ORIGIN_SECRET" not in env
        # ... and the ARN, to accept the previous value while a rotation is deployed.
        assert env["ORDERS_ORIGIN_SECRET_ARN"] == {"Ref": "OriginSecretArn"}
        for role in ("ExecutionRole", "ApiTaskRole"):
            statements = cfn.policy_statements(fargate[role])
            reads = [s for s in statements if "secretsmanager:GetSecretValue" in cfn.actions(s)]
            assert [s["Resource"] for s in reads] == [{"Ref": "OriginSecretArn"}], role
        passed = stacks["root"]["Resources"]["FargateStack"]["Properties"]["Parameters"]
        assert passed["OriginSecretArn"] == {"Ref": "OriginSecret"}


@pytest.mark.parametrize("target", list(SCENARIOS))
def test_a_rotation_updates_the_distribution_and_the_tasks(
    deployed: dict[str, dict[str, dict[str, Any]]], target: str
) -> None:
    """CloudFormation resolves the header's dynamic reference only when the distribution is
    updated: OriginSecretVersion must reach a property of it (and of the task definition),
    so raising it updates them."""
    stacks = deployed[target]
    where = [("EdgeStack", "Distribution")]
    if target != "lambda":
        where.append(("FargateStack", "ApiTaskDefinition"))
    for stack, name in where:
        passed = stacks["root"]["Resources"][stack]["Properties"]["Parameters"]
        assert passed["OriginSecretVersion"] == {"Ref": "OriginSecretVersion"}
        properties = stacks[stack]["Resources"][name]["Properties"]
        assert "OriginSecretVersion" in cfn.references(properties), (stack, name)


def test_the_alb_health_check_path_is_the_one_the_origin_check_lets_through() -> None:
    """The ALB's health checks reach the tasks directly, without CloudFront's header."""
    fargate = cfn.load(cfn.CFORM / "fargate.yaml")["Resources"]
    assert fargate["ApiTargetGroup"]["Properties"]["HealthCheckPath"] in EXEMPT_PATHS
    container = fargate["ApiTaskDefinition"]["Properties"]["ContainerDefinitions"][0]
    assert any(path in json.dumps(container["HealthCheck"]) for path in EXEMPT_PATHS)


def test_both_splits_api_by_weight_between_the_tasks_and_the_function(
    deployed: dict[str, dict[str, dict[str, Any]]],
) -> None:
    stacks = deployed["both-50"]
    fargate = stacks["FargateStack"]["Resources"]
    group = fargate["LambdaTargetGroup"]
    assert group["Properties"]["TargetType"] == "lambda"
    assert group["DependsOn"] == "LambdaInvokePermission"
    permission = fargate["LambdaInvokePermission"]["Properties"]
    assert permission["Principal"] == "elasticloadbalancing.amazonaws.com"
    assert permission["SourceAccount"] == {"Ref": "AWS::AccountId"}
    (action,) = fargate["ApiListenerRule"]["Properties"]["Actions"]
    groups = {
        g["TargetGroupArn"]["Ref"]: g["Weight"]["Ref"]
        for g in action["ForwardConfig"]["TargetGroups"]
    }
    assert groups == {"ApiTargetGroup": "FargateWeight", "LambdaTargetGroup": "LambdaWeight"}
    passed = stacks["root"]["Resources"]["FargateStack"]["Properties"]["Parameters"]
    # The alias `live` (AutoPublishAlias): the published, SnapStart-restored version.
    assert passed["LambdaFunctionArn"] == {"Ref": "ApiFunctionAliaslive"}
    split = cfn.load(cfn.ROOT_TEMPLATE)["Mappings"]["TrafficSplit"]
    allowed = cfn.load(cfn.ROOT_TEMPLATE)["Parameters"]["FargateTrafficPercent"]["AllowedValues"]
    assert sorted(int(k) for k in split) == sorted(allowed)
    for percent, weights in split.items():
        assert (weights["Fargate"], weights["Lambda"]) == (int(percent), 100 - int(percent))
