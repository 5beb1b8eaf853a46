"""Every stack deploys into the emulator, per target: moto's CloudFormation on loopback.

template.yaml goes through tests/infra/moto_stacks.py, which deploys its nested stacks in
dependency order with the parameters template.yaml passes them (read from it, not
copied), and its own resources from the SAM expansion. Each scenario is a root stack of
its own in one moto server. The switch test updates one root stack along the runbook
(lambda -> both 0 -> both 50 -> fargate -> lambda) and checks that the data stack's table,
bucket and key, what they hold, and the origin secret stay. The front door (edge stack) is
never deployed: moto has no CloudFront; the parameters it would get are checked instead.
See the README, "What the emulator deploy proves, and what it does not".
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from typing import Any

import pytest

from devstack.emulator import Emulator
from devstack.netports import free_port
from tests.infra import cfn, moto_stacks
from tests.infra.moto_stacks import ROOT_NODE, Cloud, DeployError, RootDeployment, RootResult
from tests.infra.tooling import SCENARIOS

DOMAIN = "orders.example.com"
# Scenario (tooling.SCENARIOS) x UI x certificate. `both` runs both targets (FargateTrafficPercent
# 0 and 50); its UI and certificate paths are those of fargate, so it is deployed with the UI.
BASE_MATRIX = list(itertools.product(("lambda", "fargate"), (True, False), (True, False)))
MATRIX = [*BASE_MATRIX, ("both", True, False), ("both-50", True, False), ("both-50", True, True)]
# The switch runbook (cform/README.md), one root stack updated step by step, and back.
SWITCH = ("lambda", "both", "both-50", "fargate", "lambda")
SHORT = {"lambda": "lam", "fargate": "far", "both": "b0", "both-50": "b50"}
RUNS_FARGATE = {"fargate", "both", "both-50"}
RUNS_LAMBDA = {"lambda", "both", "both-50"}
# Logical ids in cform/data.yaml of what holds the data (retained, shared by both targets).
DATA_RESOURCES = ("Table", "Bucket", "Key")


def root_name(scenario: str, ui: bool, cert: bool) -> str:
    # Short on purpose: see moto_stacks.MAX_ROOT_NAME.
    return f"{SHORT[scenario]}-ui{int(ui)}-tls{int(cert)}"


def parameters(scenario: str, ui: bool, cert: bool, certificate_arn: str) -> dict[str, str]:
    """What a user passes: images only for Fargate, a certificate and its name or neither."""
    params = {**SCENARIOS[scenario], "DeployUi": str(ui).lower()}
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
    """A certificate for DOMAIN in the emulator's ACM (the front door's alias certificate)."""
    acm = cloud.client("acm")
    return str(acm.request_certificate(DomainName=DOMAIN)["CertificateArn"])


@pytest.fixture(scope="module")
def expansions(certificate_arn: str) -> dict[str, dict[str, Any]]:
    """template.yaml through aws-sam-translator for every scenario, in one process."""
    wanted = {root_name(*case): parameters(*case, certificate_arn) for case in MATRIX}
    wanted |= {f"switch-{t}": parameters(t, True, False, certificate_arn) for t in set(SWITCH)}
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


def passed_to(cloud: Cloud, stack: Any) -> dict[str, str]:
    """The parameters a deployed stack was given."""
    found = cloud.client("cloudformation").describe_stacks(StackName=stack.name)["Stacks"][0]
    return {p["ParameterKey"]: p["ParameterValue"] for p in found["Parameters"]}


def origin_secret_arn(result: RootResult) -> str:
    return result.stacks[ROOT_NODE].resources["OriginSecret"]


# ------------------------------------------------------------------ every scenario


@pytest.mark.parametrize(
    ("scenario", "ui", "cert"),
    MATRIX,
    ids=[f"{t}-{'ui' if u else 'noui'}-{'cert' if c else 'nocert'}" for t, u, c in MATRIX],
)
def test_every_stack_reaches_create_complete(
    deployed: dict[Any, RootResult | DeployError],
    cloud: Cloud,
    scenario: str,
    ui: bool,
    cert: bool,
) -> None:
    result = result_for(deployed, (scenario, ui, cert))
    expected = {ROOT_NODE, "DataStack", "ObservabilityStack"}
    if scenario in RUNS_FARGATE:
        expected |= {"NetworkStack", "FargateStack"}
    assert set(result.stacks) == expected
    assert {s.status for s in result.stacks.values()} == {"CREATE_COMPLETE"}
    # The front door and the identity stack are on every target; moto cannot create them
    # (NOT_DEPLOYED_STACKS).
    assert set(result.skipped) == {"EdgeStack", "IdentityStack"}
    assert set(result.skipped) == set(moto_stacks.NOT_DEPLOYED_STACKS)
    # Dependency order: outputs exist before the stacks that take them.
    order = result.order
    assert order.index("DataStack") < order.index(ROOT_NODE) < order.index("ObservabilityStack")
    assert order.index(ROOT_NODE) < order.index("EdgeStack")
    if scenario in RUNS_FARGATE:
        assert order.index("NetworkStack") < order.index("FargateStack")
        assert order.index("FargateStack") < order.index("ObservabilityStack")
        assert order.index("FargateStack") < order.index("EdgeStack")
        # both: the function's ARN goes to the ALB, so the root's own resources come first.
        assert order.index(ROOT_NODE) < order.index("FargateStack")

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
    # The front door gets the origin of this target, the secret and the optional alias.
    edge = result.skipped["EdgeStack"]
    assert edge["OriginSecretArn"] == origin_secret_arn(result)
    assert edge["OriginKind"] == ("http-api" if scenario == "lambda" else "load-balancer")
    assert (edge["DomainName"], edge["CertificateArn"] != "") == (
        (DOMAIN, True) if cert else ("", False)
    )


def test_the_origin_secret_is_generated_once_and_given_to_every_consumer(
    deployed: dict[Any, RootResult | DeployError], cloud: Cloud
) -> None:
    """One Secrets Manager secret under the shared key: the function reads it by ARN, the
    task gets it injected by ARN, CloudFront by a dynamic reference to the same ARN."""
    result = result_for(deployed, ("both-50", True, False))
    arn = origin_secret_arn(result)
    assert result.stacks[ROOT_NODE].provisioned == {"OriginSecret": "AWS::SecretsManager::Secret"}
    assert result.outputs["OriginSecretArn"] == arn
    secrets = cloud.client("secretsmanager")
    described = secrets.describe_secret(SecretId=arn)
    assert described["Name"] == f"{root_name('both-50', True, False)}-origin-verify"
    assert described["KmsKeyId"] == result.stacks["DataStack"].outputs["KmsKeyArn"]
    value = secrets.get_secret_value(SecretId=arn)["SecretString"]
    assert len(value) == 64
    assert value.isalnum()
    api = cloud.client("lambda").get_function(FunctionName=result.outputs["ApiFunctionName"])
    assert api["Configuration"]["Environment"]["Variables"]["ORDERS_ORIGIN_SECRET_ARN"] == arn
    ecs = cloud.client("ecs")
    fargate = result.stacks["FargateStack"]
    task = ecs.describe_task_definition(taskDefinition=fargate.resources["ApiTaskDefinition"])
    injected = [
        s["valueFrom"]
        for c in task["taskDefinition"]["containerDefinitions"]
        for s in c.get("secrets", [])
    ]
    assert injected == [arn]
    assert passed_to(cloud, fargate)["OriginSecretArn"] == arn
    assert result.skipped["EdgeStack"]["OriginSecretArn"] == arn


@pytest.mark.parametrize(("ui", "cert"), list(itertools.product((True, False), repeat=2)))
def test_fargate_load_balancer_is_internal_and_the_front_door_its_only_way_in(
    deployed: dict[Any, RootResult | DeployError], cloud: Cloud, ui: bool, cert: bool
) -> None:
    result = result_for(deployed, ("fargate", ui, cert))
    fargate = result.stacks["FargateStack"]
    elb = cloud.client("elbv2")
    (balancer,) = elb.describe_load_balancers(LoadBalancerArns=[fargate.resources["LoadBalancer"]])[
        "LoadBalancers"
    ]
    assert balancer["Scheme"] == "internal"
    listeners = elb.describe_listeners(LoadBalancerArn=fargate.resources["LoadBalancer"])
    # TLS ends at the front door (its own certificate, or the alias's): plain HTTP inside.
    (listener,) = listeners["Listeners"]
    assert listener["Port"] == 80
    default_404 = listener["DefaultActions"][0]
    assert default_404["Type"] == "fixed-response"
    assert default_404["FixedResponseConfig"]["StatusCode"] == "404"
    edge = result.skipped["EdgeStack"]
    assert edge["LoadBalancerArn"] == balancer["LoadBalancerArn"]
    assert edge["LoadBalancerDnsName"] == balancer["DNSName"]
    assert edge["HttpApiDomainName"] == ""

    ecs = cloud.client("ecs")
    cluster = result.outputs["ClusterName"]
    services = ecs.list_services(cluster=cluster)["serviceArns"]
    assert len(services) == (2 if ui else 1)
    assert ("UiUrl" in result.outputs) is ui
    # Clients use the front door's URL, the same for the UI (the edge stack's output).
    assert result.outputs["ApiBaseUrl"] == "EdgeStack.Outputs.DistributionUrl-not-in-moto"
    if ui:
        assert result.outputs["UiUrl"] == result.outputs["ApiBaseUrl"]
    # The observability stack watches the deployed service, not a guess.
    passed = passed_to(cloud, result.stacks["ObservabilityStack"])
    assert passed["ClusterName"] == cluster
    assert passed["ApiServiceName"] == fargate.outputs["ApiServiceName"]
    assert passed["ApiFunctionName"] == ""


def test_lambda_api_function_is_wired_to_the_data_stack_and_the_front_door(
    deployed: dict[Any, RootResult | DeployError], cloud: Cloud
) -> None:
    result = result_for(deployed, ("lambda", True, False))
    data = result.stacks["DataStack"]
    function = cloud.client("lambda").get_function(FunctionName=result.outputs["ApiFunctionName"])
    config = function["Configuration"]
    assert config["Environment"]["Variables"]["ORDERS_BUCKET_NAME"] == data.resources["Bucket"]
    assert config["Environment"]["Variables"]["ORDERS_KMS_KEY_ID"] == data.outputs["KmsKeyArn"]
    passed = passed_to(cloud, result.stacks["ObservabilityStack"])
    assert passed["ApiFunctionName"] == result.outputs["ApiFunctionName"]
    assert passed["ClusterName"] == ""
    # The HTTP API is left out (no moto model): its name is the placeholder for its id.
    edge = result.skipped["EdgeStack"]
    assert edge["HttpApiDomainName"] == "HttpApi-not-in-moto.execute-api.us-east-1.amazonaws.com"
    assert edge["LoadBalancerArn"] == ""


@pytest.mark.parametrize(("scenario", "weights"), [("both", (0, 100)), ("both-50", (50, 50))])
def test_both_splits_api_traffic_by_weight_between_tasks_and_function(
    deployed: dict[Any, RootResult | DeployError], cloud: Cloud, scenario: str, weights: Any
) -> None:
    result = result_for(deployed, (scenario, True, False))
    fargate = result.stacks["FargateStack"]
    elb = cloud.client("elbv2")
    (rule,) = elb.describe_rules(RuleArns=[fargate.resources["ApiListenerRule"]])["Rules"]
    (action,) = rule["Actions"]
    groups = {g["TargetGroupArn"]: g["Weight"] for g in action["ForwardConfig"]["TargetGroups"]}
    assert groups == {
        fargate.resources["ApiTargetGroup"]: weights[0],
        fargate.resources["LambdaTargetGroup"]: weights[1],
    }
    (lambda_group,) = elb.describe_target_groups(
        TargetGroupArns=[fargate.resources["LambdaTargetGroup"]]
    )["TargetGroups"]
    assert lambda_group["TargetType"] == "lambda"
    function_arn = cloud.client("lambda").get_function(
        FunctionName=result.outputs["ApiFunctionName"]
    )["Configuration"]["FunctionArn"]
    assert passed_to(cloud, fargate)["LambdaFunctionArn"] == function_arn
    policy = cloud.client("lambda").get_policy(FunctionName=function_arn)["Policy"]
    assert "elasticloadbalancing.amazonaws.com" in policy


# ------------------------------------------------------------------ switching targets


def test_switching_targets_keeps_data_secret_and_front_door(
    cloud: Cloud, expansions: dict[str, dict[str, Any]], certificate_arn: str
) -> None:
    """The runbook, each step one update of the same root: lambda -> both 0 -> both 50 ->
    fargate -> lambda. Table, bucket, key, their contents and the origin secret stay; the
    front door (the URL) is on every step and only its origin moves."""
    root = RootDeployment(cloud, "switch")
    first = root.deploy(
        parameters("lambda", True, False, certificate_arn), expansions["switch-lambda"]
    )
    data = first.stacks["DataStack"]
    ids = {logical: data.resources[logical] for logical in DATA_RESOURCES}
    secret = origin_secret_arn(first)
    ddb, s3, kms = cloud.client("dynamodb"), cloud.client("s3"), cloud.client("kms")
    item = {"pk": {"S": "ORDER#switch"}, "sk": {"S": "ORDER"}, "total": {"N": "42"}}
    ddb.put_item(TableName=ids["Table"], Item=item)
    s3.put_object(Bucket=ids["Bucket"], Key="orders/switch/a.txt", Body=b"kept")
    sealed = kms.encrypt(KeyId=ids["Key"], Plaintext=b"kept")["CiphertextBlob"]

    for step in SWITCH[1:]:
        result = root.deploy(
            parameters(step, True, False, certificate_arn), expansions[f"switch-{step}"]
        )
        statuses = {node: stack.status for node, stack in result.stacks.items()}
        assert set(statuses.values()) <= {"CREATE_COMPLETE", "UPDATE_COMPLETE"}, statuses
        assert statuses["DataStack"] == statuses[ROOT_NODE] == "UPDATE_COMPLETE"
        assert result.outputs["DeploymentTarget"] == SCENARIOS[step]["DeploymentTarget"]
        now = {logical: result.stacks["DataStack"].resources[logical] for logical in ids}
        assert now == ids, f"after switching to {step}"
        assert origin_secret_arn(result) == secret, f"after switching to {step}"
        got = ddb.get_item(TableName=ids["Table"], Key={k: item[k] for k in ("pk", "sk")})
        assert got["Item"] == item
        body = s3.get_object(Bucket=ids["Bucket"], Key="orders/switch/a.txt")["Body"].read()
        assert body == b"kept"
        opened = kms.decrypt(CiphertextBlob=sealed)
        assert opened["Plaintext"] == b"kept"
        assert opened["KeyId"].endswith(ids["Key"])
        fargate_stacks = {"NetworkStack", "FargateStack"}
        runs_fargate = step in RUNS_FARGATE
        assert (fargate_stacks <= set(result.stacks)) is runs_fargate
        for logical in fargate_stacks:
            assert cloud.exists(root.nested_name(logical)) is runs_fargate
        assert ("ApiFunction" in result.stacks[ROOT_NODE].resources) is (step in RUNS_LAMBDA)
        edge = result.skipped["EdgeStack"]
        assert edge["OriginKind"] == ("http-api" if step == "lambda" else "load-balancer")
        if step == "both-50":
            fargate = result.stacks["FargateStack"]
            (rule,) = cloud.client("elbv2").describe_rules(
                RuleArns=[fargate.resources["ApiListenerRule"]]
            )["Rules"]
            weights = sorted(
                g["Weight"] for g in rule["Actions"][0]["ForwardConfig"]["TargetGroups"]
            )
            assert weights == [50, 50]


def test_moto_still_cannot_turn_a_rule_weighted(
    cloud: Cloud, expansions: dict[str, dict[str, Any]], certificate_arn: str
) -> None:
    """fargate -> both (the reverse runbook's first step) is the one update moto cannot
    deploy: its modify_rule fails on a weighted forward (README, moto workarounds). When
    this fails, moto can: add fargate -> both to the switch walk and drop the note."""
    root = RootDeployment(cloud, "gap")
    root.deploy(parameters("fargate", True, False, certificate_arn), expansions["switch-fargate"])
    with pytest.raises(DeployError, match="moto failed on FargateStack"):
        root.deploy(parameters("both", True, False, certificate_arn), expansions["switch-both"])


# ------------------------------------------------------------------ stacks outside the root


def test_ci_stack_deploys(cloud: Cloud) -> None:
    stack = cloud.deploy("ci", cfn.load(cfn.CFORM / "ci.yaml"), {}, where="cform/ci.yaml")
    assert stack.status == "CREATE_COMPLETE"
    iam = cloud.client("iam")
    for logical in cfn.by_type(cfn.load(cfn.CFORM / "ci.yaml"), "AWS::IAM::Role"):
        iam.get_role(RoleName=stack.resources[logical])


def test_stacks_left_out_are_ones_moto_cannot_create() -> None:
    """NOT_DEPLOYED_STACKS (and so the README's list) stays true when moto learns a type."""
    root = cfn.load(cfn.ROOT_TEMPLATE)["Resources"]
    assert moto_stacks.NOT_DEPLOYED_STACKS
    for logical in moto_stacks.NOT_DEPLOYED_STACKS:
        template = cfn.load(cfn.REPO / root[logical]["Properties"]["TemplateURL"])
        types = {r["Type"] for r in template["Resources"].values()}
        assert types - moto_stacks.modelled_types() - set(moto_stacks.UNMODELLED), logical


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
        "VpcCidr": network.outputs["VpcCidr"],
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
