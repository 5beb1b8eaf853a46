"""Every stack deploys into the emulator, per target: moto's CloudFormation on loopback.

template.yaml goes through tests/infra/moto_stacks.py, which deploys its nested stacks in
dependency order with the parameters template.yaml passes them (read from it, not
copied), and its own resources from the SAM expansion. Each scenario is a root stack of
its own in one moto server. The switch test updates one root stack lambda -> fargate ->
lambda and checks that the data stack's table, bucket and key, and what they hold, stay.
See the README, "What the emulator deploy proves, and what it does not".
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from typing import Any

import pytest

from devstack.emulator import Emulator
from devstack.ports import free_port
from tests.infra import cfn, moto_stacks
from tests.infra.moto_stacks import ROOT_NODE, Cloud, DeployError, RootDeployment, RootResult
from tests.infra.tooling import SCENARIOS

DOMAIN = "orders.example.com"
TARGETS = ("lambda", "fargate")
MATRIX = list(itertools.product(TARGETS, (True, False), (True, False)))
SWITCH = ("lambda", "fargate", "lambda")
# Logical ids in cform/data.yaml of what holds the data (retained, shared by both targets).
DATA_RESOURCES = ("Table", "Bucket", "Key")


def root_name(target: str, ui: bool, cert: bool) -> str:
    # Short on purpose: see moto_stacks.MAX_ROOT_NAME.
    return f"{target[:3]}-ui{int(ui)}-tls{int(cert)}"


def parameters(target: str, ui: bool, cert: bool, certificate_arn: str) -> dict[str, str]:
    """What a user passes: images only for Fargate, a certificate and its name or neither."""
    params = {**SCENARIOS[target], "DeployUi": str(ui).lower()}
    if cert:
        params |= {"CertificateArn": certificate_arn, "DomainName": DOMAIN}
    return params


@pytest.fixture(scope="module")
def cloud() -> Iterator[Cloud]:
    emulator = Emulator("127.0.0.1", free_port())
    emulator.start()
    try:
        yield Cloud(f"http://{emulator.host}:{emulator.port}")
    finally:
        emulator.stop()


@pytest.fixture(scope="module")
def certificate_arn(cloud: Cloud) -> str:
    """A certificate for DOMAIN in the emulator's ACM: moto's ELB, like ELB, checks it exists."""
    acm = cloud.client("acm")
    return str(acm.request_certificate(DomainName=DOMAIN)["CertificateArn"])


@pytest.fixture(scope="module")
def expansions(certificate_arn: str) -> dict[str, dict[str, Any]]:
    """template.yaml through aws-sam-translator for every scenario, in one process."""
    wanted = {root_name(*case): parameters(*case, certificate_arn) for case in MATRIX}
    wanted |= {f"switch-{t}": parameters(t, True, False, certificate_arn) for t in TARGETS}
    expanded = moto_stacks.expand_root(list(wanted.values()))
    return dict(zip(wanted, expanded, strict=True))


@pytest.fixture(scope="module")
def deployed(
    cloud: Cloud, certificate_arn: str, expansions: dict[str, dict[str, Any]]
) -> dict[tuple[str, bool, bool], RootResult | DeployError]:
    """Every scenario deployed once (each test then asserts on its own)."""
    results: dict[tuple[str, bool, bool], RootResult | DeployError] = {}
    for case in MATRIX:
        name = root_name(*case)
        try:
            results[case] = RootDeployment(cloud, name).deploy(
                parameters(*case, certificate_arn), expansions[name]
            )
        except DeployError as exc:
            results[case] = exc
    return results


def result_for(deployed: dict[Any, RootResult | DeployError], case: Any) -> RootResult:
    result = deployed[case]
    if isinstance(result, DeployError):
        pytest.fail(f"{case} did not deploy: {result}")
    return result


# ------------------------------------------------------------------ every scenario


@pytest.mark.parametrize(
    ("target", "ui", "cert"),
    MATRIX,
    ids=[f"{t}-{'ui' if u else 'noui'}-{'cert' if c else 'nocert'}" for t, u, c in MATRIX],
)
def test_every_stack_reaches_create_complete(
    deployed: dict[Any, RootResult | DeployError],
    cloud: Cloud,
    target: str,
    ui: bool,
    cert: bool,
) -> None:
    result = result_for(deployed, (target, ui, cert))
    expected = {ROOT_NODE, "DataStack", "ObservabilityStack"}
    if target == "fargate":
        expected |= {"NetworkStack", "FargateStack"}
    assert set(result.stacks) == expected
    assert {s.status for s in result.stacks.values()} == {"CREATE_COMPLETE"}
    # Dependency order: outputs exist before the stacks that take them.
    order = result.order
    assert order.index("DataStack") < order.index(ROOT_NODE) < order.index("ObservabilityStack")
    if target == "fargate":
        assert order.index("NetworkStack") < order.index("FargateStack")
        assert order.index("FargateStack") < order.index("ObservabilityStack")

    # The root's outputs resolve to what the data stack created.
    data = result.stacks["DataStack"]
    assert result.outputs["TableName"] == data.resources["Table"]
    assert result.outputs["BucketName"] == data.resources["Bucket"]
    assert result.outputs["KmsKeyArn"].endswith(data.resources["Key"])
    assert (
        result.outputs["OutboxFunctionName"] == result.stacks[ROOT_NODE].resources["OutboxFunction"]
    )
    # Lambda: the function got the data stack's outputs through Globals.
    functions = cloud.client("lambda")
    outbox = functions.get_function(FunctionName=result.outputs["OutboxFunctionName"])
    env = outbox["Configuration"]["Environment"]["Variables"]
    assert env["ORDERS_TABLE_NAME"] == data.resources["Table"]
    assert env["ORDERS_EVENT_BUS_NAME"] == data.outputs["EventBusName"]
    mappings = functions.list_event_source_mappings(
        FunctionName=outbox["Configuration"]["FunctionName"]
    )["EventSourceMappings"]
    assert [m["EventSourceArn"] for m in mappings] == [data.outputs["TableStreamArn"]]
    assert (
        mappings[0]["DestinationConfig"]["OnFailure"]["Destination"]
        == (data.outputs["OutboxDlqArn"])
    )


@pytest.mark.parametrize(("ui", "cert"), list(itertools.product((True, False), repeat=2)))
def test_fargate_load_balancer_and_services_follow_ui_and_certificate(
    deployed: dict[Any, RootResult | DeployError], cloud: Cloud, ui: bool, cert: bool
) -> None:
    result = result_for(deployed, ("fargate", ui, cert))
    fargate = result.stacks["FargateStack"]
    elb = cloud.client("elbv2")
    listeners = elb.describe_listeners(LoadBalancerArn=fargate.resources["LoadBalancer"])
    by_port = {item["Port"]: item for item in listeners["Listeners"]}
    assert set(by_port) == ({80, 443} if cert else {80})
    http_action = by_port[80]["DefaultActions"][0]
    if cert:
        assert http_action["Type"] == "redirect"
        assert by_port[443]["Certificates"][0]["CertificateArn"]
        default_404 = by_port[443]["DefaultActions"][0]
    else:
        default_404 = http_action
    assert default_404["Type"] == "fixed-response"
    assert default_404["FixedResponseConfig"]["StatusCode"] == "404"

    ecs = cloud.client("ecs")
    cluster = result.outputs["ClusterName"]
    services = ecs.list_services(cluster=cluster)["serviceArns"]
    assert len(services) == (2 if ui else 1)
    assert ("UiUrl" in result.outputs) is ui
    # With a certificate, clients are sent to the name it covers, never the ALB's own name.
    load_balancer_dns = elb.describe_load_balancers(
        LoadBalancerArns=[fargate.resources["LoadBalancer"]]
    )["LoadBalancers"][0]["DNSName"]
    expected_url = f"https://{DOMAIN}" if cert else f"http://{load_balancer_dns}"
    assert result.outputs["ApiBaseUrl"] == expected_url
    if ui:
        assert result.outputs["UiUrl"] == expected_url
    # The observability stack watches the deployed service, not a guess.
    observability = cloud.client("cloudformation").describe_stacks(
        StackName=result.stacks["ObservabilityStack"].name
    )["Stacks"][0]
    passed = {p["ParameterKey"]: p["ParameterValue"] for p in observability["Parameters"]}
    assert passed["ClusterName"] == cluster
    assert passed["ApiServiceName"] == fargate.outputs["ApiServiceName"]
    assert passed["ApiFunctionName"] == ""


def test_lambda_api_function_is_wired_to_the_data_stack(
    deployed: dict[Any, RootResult | DeployError], cloud: Cloud
) -> None:
    result = result_for(deployed, ("lambda", True, False))
    data = result.stacks["DataStack"]
    function = cloud.client("lambda").get_function(FunctionName=result.outputs["ApiFunctionName"])
    config = function["Configuration"]
    assert config["Environment"]["Variables"]["ORDERS_BUCKET_NAME"] == data.resources["Bucket"]
    assert config["Environment"]["Variables"]["ORDERS_KMS_KEY_ID"] == data.outputs["KmsKeyArn"]
    observability = cloud.client("cloudformation").describe_stacks(
        StackName=result.stacks["ObservabilityStack"].name
    )["Stacks"][0]
    passed = {p["ParameterKey"]: p["ParameterValue"] for p in observability["Parameters"]}
    assert passed["ApiFunctionName"] == result.outputs["ApiFunctionName"]
    assert passed["ClusterName"] == ""


# ------------------------------------------------------------------ switching targets


def test_switching_targets_keeps_table_bucket_key_and_their_contents(
    cloud: Cloud, expansions: dict[str, dict[str, Any]], certificate_arn: str
) -> None:
    root = RootDeployment(cloud, "switch")
    first = root.deploy(
        parameters("lambda", True, False, certificate_arn), expansions["switch-lambda"]
    )
    data = first.stacks["DataStack"]
    ids = {logical: data.resources[logical] for logical in DATA_RESOURCES}
    ddb, s3, kms = cloud.client("dynamodb"), cloud.client("s3"), cloud.client("kms")
    item = {"pk": {"S": "ORDER#switch"}, "sk": {"S": "ORDER"}, "total": {"N": "42"}}
    ddb.put_item(TableName=ids["Table"], Item=item)
    s3.put_object(Bucket=ids["Bucket"], Key="orders/switch/a.txt", Body=b"kept")
    sealed = kms.encrypt(KeyId=ids["Key"], Plaintext=b"kept")["CiphertextBlob"]

    for target in SWITCH[1:]:
        result = root.deploy(
            parameters(target, True, False, certificate_arn), expansions[f"switch-{target}"]
        )
        statuses = {node: stack.status for node, stack in result.stacks.items()}
        assert set(statuses.values()) <= {"CREATE_COMPLETE", "UPDATE_COMPLETE"}, statuses
        assert statuses["DataStack"] == statuses[ROOT_NODE] == "UPDATE_COMPLETE"
        assert result.outputs["DeploymentTarget"] == target
        now = {logical: result.stacks["DataStack"].resources[logical] for logical in ids}
        assert now == ids, f"after switching to {target}"
        got = ddb.get_item(TableName=ids["Table"], Key={k: item[k] for k in ("pk", "sk")})
        assert got["Item"] == item
        body = s3.get_object(Bucket=ids["Bucket"], Key="orders/switch/a.txt")["Body"].read()
        assert body == b"kept"
        opened = kms.decrypt(CiphertextBlob=sealed)
        assert opened["Plaintext"] == b"kept"
        assert opened["KeyId"].endswith(ids["Key"])
        fargate_stacks = {"NetworkStack", "FargateStack"}
        assert (fargate_stacks <= set(result.stacks)) is (target == "fargate")
        for logical in fargate_stacks:
            assert cloud.exists(root.nested_name(logical)) is (target == "fargate")


# ------------------------------------------------------------------ stacks outside the root


def test_ci_stack_deploys(cloud: Cloud) -> None:
    stack = cloud.deploy("ci", cfn.load(cfn.CFORM / "ci.yaml"), {}, where="cform/ci.yaml")
    assert stack.status == "CREATE_COMPLETE"
    iam = cloud.client("iam")
    for logical in cfn.by_type(cfn.load(cfn.CFORM / "ci.yaml"), "AWS::IAM::Role"):
        iam.get_role(RoleName=stack.resources[logical])


def test_edge_stack_where_moto_allows() -> None:
    template = cfn.load(cfn.CFORM / "edge.yaml")
    missing = {r["Type"] for r in template["Resources"].values()} - moto_stacks.modelled_types()
    if missing:
        pytest.skip(
            f"moto's CloudFormation has no model for {sorted(missing)}: the edge stack "
            "(CloudFront + WAF) is not deployed; lint and checkov still check it"
        )
    pytest.fail("moto now models the edge: deploy it here")  # pragma: no cover


# ------------------------------------------------------------------ the harness itself


def test_the_emulator_refuses_what_lint_cannot_see(cloud: Cloud) -> None:
    """The defect this tier was written for: ELB refuses a problem+json fixed response."""
    template = cfn.load(cfn.CFORM / "fargate.yaml")
    responses = find_key(template, "FixedResponseConfig")
    assert responses, "fargate.yaml has no fixed response any more: rewrite this test"
    for response in responses:
        response["ContentType"] = "application/problem+json"
    network = cloud.deploy(
        "cts-net", cfn.load(cfn.CFORM / "network.yaml"), {"KmsKeyArn": "arn:aws:kms:x"}
    )
    params = {
        "ApiImageUri": SCENARIOS["fargate"]["ApiImageUri"],
        "UiImageUri": SCENARIOS["fargate"]["UiImageUri"],
        "VpcId": network.outputs["VpcId"],
        "PublicSubnetIds": network.outputs["PublicSubnetIds"],
        "PrivateSubnetIds": network.outputs["PrivateSubnetIds"],
    }
    params |= {
        name: f"arn:aws:x:us-east-1:123456789012:{name}"
        for name, spec in template["Parameters"].items()
        if name not in params and "Default" not in spec
    }
    with pytest.raises(DeployError, match="ContentType"):
        cloud.deploy("cts-fargate", template, params)


def find_key(node: Any, key: str) -> list[dict[str, Any]]:
    """Every value under `key` anywhere in the tree (the live objects, to edit in place)."""
    if isinstance(node, dict):
        here = [node[key]] if key in node else []
        return here + [v for child in node.values() for v in find_key(child, key)]
    if isinstance(node, list):
        return [v for child in node for v in find_key(child, key)]
    return []


def test_what_the_harness_leaves_out_is_what_moto_cannot_create() -> None:
    """UNMODELLED (and so the README's list) stays true when moto learns a type."""
    assert not set(moto_stacks.UNMODELLED) & moto_stacks.modelled_types()


def test_cidr_is_computed_as_cloudformation_does() -> None:
    template = cfn.load(cfn.CFORM / "network.yaml")
    values = cfn.parameter_values(template, {"VpcCidr": "10.40.0.0/16"})
    body, _ = moto_stacks.for_moto(template, values)
    blocks = [
        body["Resources"][n]["Properties"]["CidrBlock"]
        for n in ("PublicSubnetA", "PublicSubnetB", "PrivateSubnetA", "PrivateSubnetB")
    ]
    assert blocks == [
        {"Fn::Select": [i, [f"10.40.{16 * j}.0/20" for j in range(4)]]} for i in range(4)
    ]


def test_references_to_left_out_resources_become_placeholders() -> None:
    template = cfn.load(cfn.CFORM / "fargate.yaml")
    values = cfn.parameter_values(template, {"ApiImageUri": "x"})
    body, dropped = moto_stacks.for_moto(template, values)
    assert {"Namespace", "ApiDiscoveryService"} <= dropped
    service = body["Resources"]["ApiService"]["Properties"]
    assert service["ServiceRegistries"][0]["RegistryArn"].endswith(":ApiDiscoveryService")
    assert "Namespace" not in body["Resources"]


@pytest.mark.parametrize(
    ("given", "problem"),
    [
        ({"DeploymentTarget": "ec2"}, "not in"),
        ({"Stage": "Prod"}, "does not match"),
        ({"ApiMemorySize": "64"}, "below MinValue"),
        ({"NoSuchParameter": "x"}, "not declared"),
    ],
)
def test_parameters_cloudformation_would_refuse_are_refused(
    given: dict[str, str], problem: str
) -> None:
    with pytest.raises(DeployError, match=problem):
        moto_stacks.check_parameters(cfn.load(cfn.ROOT_TEMPLATE), given, "template.yaml")


def test_the_roots_rules_stop_a_deploy_cloudformation_would_refuse(cloud: Cloud) -> None:
    """template.yaml's Rules (moto ignores them): Fargate without an API image."""
    root = RootDeployment(cloud, "no-image")
    with pytest.raises(DeployError, match="Rules"):
        root.deploy({"DeploymentTarget": "fargate"}, expanded={})
    assert not cloud.exists("no-image-data")


def test_rules_are_evaluated() -> None:
    template = {
        "Parameters": {"A": {"Type": "String"}, "B": {"Type": "String", "Default": ""}},
        "Rules": {
            "NeedsB": {
                "RuleCondition": {"Fn::Equals": [{"Ref": "A"}, "on"]},
                "Assertions": [
                    {"Assert": {"Fn::Not": [{"Fn::Equals": [{"Ref": "B"}, ""]}]}},
                ],
            }
        },
    }
    moto_stacks.check_rules(template, {"A": "off", "B": ""}, "t")
    moto_stacks.check_rules(template, {"A": "on", "B": "x"}, "t")
    with pytest.raises(DeployError, match="NeedsB"):
        moto_stacks.check_rules(template, {"A": "on", "B": ""}, "t")
