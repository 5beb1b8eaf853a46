"""What each DeploymentTarget creates: template.yaml expanded by aws-sam-translator, its
conditions resolved, and the nested cform/ templates resolved with the parameters it passes.
"""

from __future__ import annotations

import fnmatch
import json
import re
from typing import Any

import boto3
import pytest
from moto import mock_aws

from orders.adapters.keys import EVENT_PREFIX
from orders.app import API_PREFIX
from tests.infra import cfn
from tests.infra.tooling import RAW_TEMPLATES, SCENARIOS

DATA_OUTPUTS = {
    "TableName", "TableArn", "TableStreamArn", "BucketName", "BucketArn", "EventBusName",
    "EventBusArn", "KmsKeyArn", "KmsKeyId", "EventsQueueUrl", "EventsQueueArn", "EventsDlqUrl",
    "EventsDlqArn",
}  # fmt: skip
SERVICE_ENV = {
    "ORDERS_TABLE_NAME", "ORDERS_BUCKET_NAME", "ORDERS_EVENT_BUS_NAME", "ORDERS_KMS_KEY_ID",
    "ORDERS_TRACING_ENABLED", "ORDERS_REQUEST_TIMEOUT_SECONDS", "POWERTOOLS_SERVICE_NAME",
    "POWERTOOLS_METRICS_NAMESPACE", "POWERTOOLS_LOG_LEVEL",
}  # fmt: skip
OUTBOX_FILTER = {
    "eventName": ["INSERT"],
    # The template repeats the table's outbox prefix; this ties the copy to the code.
    "dynamodb": {"Keys": {"sk": {"S": [{"prefix": EVENT_PREFIX}]}}},
}


def types(template: dict[str, Any]) -> set[str]:
    return {r["Type"] for r in template["Resources"].values()}


def nested(root: dict[str, Any], logical_id: str, scenario: dict[str, Any]) -> dict[str, Any]:
    """A nested cform/ template resolved with the parameters the root passes to it."""
    stack = root["Resources"][logical_id]
    template = cfn.load(cfn.REPO / stack["Properties"]["TemplateURL"])
    root_params = cfn.parameter_values(cfn.load(cfn.ROOT_TEMPLATE), scenario)
    return cfn.resolve(template, cfn.nested_parameters(root_params, stack))


def fargate_with(**params: str) -> tuple[dict[str, Any], dict[str, Any]]:
    scenario = {**SCENARIOS["fargate"], **params}
    root = cfn.resolve(cfn.load(cfn.ROOT_TEMPLATE), scenario)
    return nested(root, "FargateStack", scenario), scenario


# ------------------------------------------------------------------ both targets


@pytest.mark.parametrize("target", list(SCENARIOS))
def test_both_targets_have_data_stack_outbox_and_observability(
    expanded: dict[str, dict[str, Any]], target: str
) -> None:
    resources = expanded[target]["Resources"]
    assert resources["DataStack"]["Properties"]["TemplateURL"] == "cform/data.yaml"
    assert (
        resources["ObservabilityStack"]["Properties"]["TemplateURL"] == "cform/observability.yaml"
    )
    outbox = resources["OutboxFunction"]
    assert outbox["Type"] == "AWS::Lambda::Function"
    assert outbox["Properties"]["Handler"] == "orders.outbox.handler"
    assert outbox["Properties"]["TracingConfig"] == {"Mode": "Active"}


@pytest.mark.parametrize("target", list(SCENARIOS))
def test_outbox_reads_only_new_event_items_with_bounded_retries(
    expanded: dict[str, dict[str, Any]], target: str
) -> None:
    (mapping,) = cfn.by_type(expanded[target], "AWS::Lambda::EventSourceMapping").values()
    props = mapping["Properties"]
    assert props["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    assert props["BisectBatchOnFunctionError"] is True
    assert 0 <= props["MaximumRetryAttempts"] <= 10
    assert props["DestinationConfig"]["OnFailure"]["Destination"] == {
        "Fn::GetAtt": ["DataStack", "Outputs.OutboxDlqArn"]
    }
    (pattern,) = props["FilterCriteria"]["Filters"]
    assert json.loads(pattern["Pattern"]) == OUTBOX_FILTER


@pytest.mark.parametrize("target", list(SCENARIOS))
def test_no_iam_statement_allows_a_wildcard_action(
    expanded: dict[str, dict[str, Any]], target: str
) -> None:
    statements = cfn.policy_statements(expanded[target])
    assert statements, f"no policy statement found in the {target} template"
    for statement in statements:
        for action in cfn.actions(statement):
            assert action != "*", statement
            # A Deny may take away a whole service (the TLS-only bucket policy does).
            if statement["Effect"] == "Allow":
                assert not action.endswith(":*"), statement


@pytest.mark.parametrize("path", RAW_TEMPLATES, ids=lambda p: p.name)
def test_no_iam_statement_allows_a_wildcard_action_in_cform(path: Any) -> None:
    statements = cfn.policy_statements(cfn.load(path))
    documents = re.findall(
        r"\b(?:PolicyDocument|KeyPolicy|AssumeRolePolicyDocument):", path.read_text()
    )
    # Every policy document the file has was read (one statement at least each).
    assert len(statements) >= len(documents), path.name
    for statement in statements:
        for action in cfn.actions(statement):
            assert action != "*", statement
            if statement["Effect"] == "Allow":
                assert not action.endswith(":*"), statement


def test_function_roles_are_explicit_and_scoped(expanded: dict[str, dict[str, Any]]) -> None:
    """Our own roles (no SAM-generated ones), each statement on named resources."""
    template = expanded["lambda"]
    for name in ("ApiFunction", "OutboxFunction"):
        role = template["Resources"][name]["Properties"]["Role"]
        assert role == {"Fn::GetAtt": [f"{name}Role", "Arn"]}
        policy = template["Resources"][f"{name}Role"]["Properties"]["Policies"]
        statements = cfn.policy_statements(policy)
        assert statements, f"{name}Role grants nothing"
        for statement in statements:
            assert statement["Resource"] != "*", statement


@pytest.mark.parametrize("name", ["ApiFunction", "OutboxFunction"])
def test_reserved_concurrency_only_when_asked(
    expanded: dict[str, dict[str, Any]], name: str
) -> None:
    """Reserving 60 fails in accounts with a low concurrency quota: the default reserves none."""
    assert "ReservedConcurrentExecutions" not in expanded["lambda"]["Resources"][name]["Properties"]
    parameter = name.removesuffix("Function") + "ReservedConcurrency"
    root = cfn.resolve(cfn.load(cfn.ROOT_TEMPLATE), {"DeploymentTarget": "lambda", parameter: 25})
    assert root["Resources"][name]["Properties"]["ReservedConcurrentExecutions"] == {
        "Ref": parameter
    }
    assert cfn.load(cfn.ROOT_TEMPLATE)["Parameters"][parameter]["Default"] == 0


def test_key_lets_eventbridge_reencrypt_this_buses_archive_only() -> None:
    """An archive with a customer-managed key needs kms:ReEncrypt* besides Decrypt and
    GenerateDataKey (EventBridge user guide); scoped to this bus's encryption context."""
    data = cfn.load(cfn.CFORM / "data.yaml")
    statements = [
        s
        for s in cfn.policy_statements(data["Resources"]["Key"])
        if s.get("Principal", {}).get("Service") == "events.amazonaws.com"
    ]
    allowed = {a for s in statements for a in cfn.actions(s)}
    assert {"kms:Decrypt", "kms:GenerateDataKey", "kms:DescribeKey", "kms:ReEncrypt*"} <= allowed
    (reencrypt,) = [s for s in statements if "kms:ReEncrypt*" in cfn.actions(s)]
    context = reencrypt["Condition"]["StringEquals"][
        "kms:EncryptionContext:aws:events:event-bus:arn"
    ]
    bus_name = data["Resources"]["EventBus"]["Properties"]["Name"]["Fn::Sub"]
    assert context["Fn::Sub"].endswith(f":event-bus/{bus_name}")


# ------------------------------------------------------------------ lambda target


def test_lambda_target_has_function_and_http_api_only(expanded: dict[str, dict[str, Any]]) -> None:
    template = expanded["lambda"]
    api = template["Resources"]["ApiFunction"]["Properties"]
    assert api["Handler"] == "orders.lambda_handler.handler"
    assert api["TracingConfig"] == {"Mode": "Active"}
    # By default nothing is reserved: the account's quota may be too low for any reservation.
    assert "ReservedConcurrentExecutions" not in api
    assert "VpcConfig" not in api
    assert "AWS::ApiGatewayV2::Api" in types(template)
    assert not {"NetworkStack", "FargateStack"} & set(template["Resources"])
    forbidden = {
        "AWS::ECS::Cluster", "AWS::ECS::Service", "AWS::ElasticLoadBalancingV2::LoadBalancer",
        "AWS::EC2::VPC", "AWS::EC2::NatGateway",
    }  # fmt: skip
    assert not forbidden & types(template)


def test_http_api_routes_the_api_root_and_everything_under_it(
    expanded: dict[str, dict[str, Any]],
) -> None:
    """{proxy+} needs one more segment, so GET /api (service info) needs its own route."""
    api = expanded["lambda"]["Resources"]["HttpApi"]["Properties"]
    paths = set(api["Body"]["paths"])
    assert {API_PREFIX, f"{API_PREFIX}/{{proxy+}}"} <= paths


def test_lambda_function_environment(expanded: dict[str, dict[str, Any]]) -> None:
    env = expanded["lambda"]["Resources"]["ApiFunction"]["Properties"]["Environment"]["Variables"]
    assert set(env) >= SERVICE_ENV
    assert env["ORDERS_TRACING_ENABLED"] == "true"
    assert env["ORDERS_REQUEST_TIMEOUT_SECONDS"] == {"Ref": "ApiTimeoutSeconds"}
    timeout = expanded["lambda"]["Resources"]["ApiFunction"]["Properties"]["Timeout"]
    assert timeout == {"Ref": "ApiTimeoutSeconds"}
    assert env["ORDERS_KMS_KEY_ID"] == {"Fn::GetAtt": ["DataStack", "Outputs.KmsKeyArn"]}
    assert env["POWERTOOLS_METRICS_NAMESPACE"] == "OrdersService"
    outbox = expanded["lambda"]["Resources"]["OutboxFunction"]["Properties"]
    assert set(outbox["Environment"]["Variables"]) >= SERVICE_ENV


def test_http_api_throttles_and_logs_access(expanded: dict[str, dict[str, Any]]) -> None:
    (stage,) = cfn.by_type(expanded["lambda"], "AWS::ApiGatewayV2::Stage").values()
    props = stage["Properties"]
    assert props["StageName"] == "$default"
    assert props["DefaultRouteSettings"]["ThrottlingRateLimit"] == {"Ref": "ApiThrottlingRateLimit"}
    assert props["DefaultRouteSettings"]["ThrottlingBurstLimit"] == {
        "Ref": "ApiThrottlingBurstLimit"
    }
    assert props["AccessLogSettings"]["DestinationArn"] == {
        "Fn::GetAtt": ["HttpApiAccessLogGroup", "Arn"]
    }
    (api,) = cfn.by_type(expanded["lambda"], "AWS::ApiGatewayV2::Api").values()
    assert "/api/{proxy+}" in api["Properties"]["Body"]["paths"]


@pytest.mark.parametrize("target", list(SCENARIOS))
def test_the_base_url_is_the_front_doors_on_every_target(
    expanded: dict[str, dict[str, Any]], target: str
) -> None:
    url = expanded[target]["Outputs"]["ApiBaseUrl"]["Value"]
    assert url == {"Fn::GetAtt": ["EdgeStack", "Outputs.DistributionUrl"]}


# ------------------------------------------------------------------ fargate target


def test_fargate_target_has_network_and_services_but_no_api_function(
    expanded: dict[str, dict[str, Any]],
) -> None:
    template = expanded["fargate"]
    assert {"NetworkStack", "FargateStack", "DataStack", "OutboxFunction"} <= set(
        template["Resources"]
    )
    assert "ApiFunction" not in template["Resources"]
    assert not {"AWS::ApiGatewayV2::Api", "AWS::ApiGatewayV2::Stage"} & types(template)
    functions = cfn.by_type(template, "AWS::Lambda::Function")
    assert set(functions) == {"OutboxFunction"}


def alb_path_match(pattern: str, path: str) -> bool:
    """ELB path-pattern semantics: case-sensitive, `*` any characters, `?` one."""
    return fnmatch.fnmatchcase(path, pattern)


def routed_to(stack: dict[str, Any], path: str) -> str:
    """Target group a request path reaches: the first matching rule by priority, else the
    listener's default (a 404)."""
    rules = sorted(
        cfn.by_type(stack, "AWS::ElasticLoadBalancingV2::ListenerRule").values(),
        key=lambda r: int(r["Properties"]["Priority"]),
    )
    for rule in rules:
        (condition,) = rule["Properties"]["Conditions"]
        assert condition["Field"] == "path-pattern"
        if any(alb_path_match(p, path) for p in condition["PathPatternConfig"]["Values"]):
            (action,) = rule["Properties"]["Actions"]
            return str(action["TargetGroupArn"]["Ref"])
    return "default-404"


def test_fargate_alb_default_404_and_both_rules() -> None:
    stack, _ = fargate_with()
    (listener,) = cfn.by_type(stack, "AWS::ElasticLoadBalancingV2::Listener").values()
    (action,) = listener["Properties"]["DefaultActions"]
    assert action["Type"] == "fixed-response"
    assert action["FixedResponseConfig"]["StatusCode"] == "404"
    groups = cfn.by_type(stack, "AWS::ElasticLoadBalancingV2::TargetGroup")
    assert groups["ApiTargetGroup"]["Properties"]["HealthCheckPath"] == f"{API_PREFIX}/health"
    assert groups["UiTargetGroup"]["Properties"]["HealthCheckPath"] == "/_stcore/health"
    # /api itself (the service root, served on the Lambda target too) goes to the API.
    for path in ("/api", "/api/", "/api/health", "/api/orders/o-1/status"):
        assert routed_to(stack, path) == "ApiTargetGroup", path
    for path in ("/", "/apiary", "/_stcore/health", "/orders"):
        assert routed_to(stack, path) == "UiTargetGroup", path
    api_only, _ = fargate_with(DeployUi="false")
    assert routed_to(api_only, "/api") == "ApiTargetGroup"
    assert routed_to(api_only, "/") == "default-404"


def test_fargate_without_ui_has_only_the_api() -> None:
    stack, _ = fargate_with(DeployUi="false")
    services = cfn.by_type(stack, "AWS::ECS::Service")
    assert set(services) == {"ApiService"}
    assert set(cfn.by_type(stack, "AWS::ElasticLoadBalancingV2::ListenerRule")) == {
        "ApiListenerRule"
    }


def test_fargate_services_private_with_circuit_breaker_and_autoscaling() -> None:
    stack, _ = fargate_with()
    services = cfn.by_type(stack, "AWS::ECS::Service")
    assert set(services) == {"ApiService", "UiService"}
    for service in services.values():
        props = service["Properties"]
        network = props["NetworkConfiguration"]["AwsvpcConfiguration"]
        assert network["AssignPublicIp"] == "DISABLED"
        assert network["Subnets"] == {"Ref": "PrivateSubnetIds"}
        breaker = props["DeploymentConfiguration"]["DeploymentCircuitBreaker"]
        assert breaker == {"Enable": True, "Rollback": True}
    policies = cfn.by_type(stack, "AWS::ApplicationAutoScaling::ScalingPolicy")
    assert {p["Properties"]["PolicyType"] for p in policies.values()} == {"TargetTrackingScaling"}
    (cluster,) = cfn.by_type(stack, "AWS::ECS::Cluster").values()
    assert {"Name": "containerInsights", "Value": "enabled"} in cluster["Properties"][
        "ClusterSettings"
    ]


def test_fargate_tasks_non_root_read_only_and_logged_to_kms_group() -> None:
    stack, _ = fargate_with()
    (group,) = cfn.by_type(stack, "AWS::Logs::LogGroup").values()
    assert group["Properties"]["KmsKeyId"] == {"Ref": "KmsKeyArn"}
    assert "RetentionInDays" in group["Properties"]
    tasks = cfn.by_type(stack, "AWS::ECS::TaskDefinition").values()
    assert len(tasks) == 2
    for task in tasks:
        assert task["Properties"]["ExecutionRoleArn"] != task["Properties"]["TaskRoleArn"]
        for container in task["Properties"]["ContainerDefinitions"]:
            assert container["ReadonlyRootFilesystem"] is True
            assert container["Privileged"] is False
            assert container["LogConfiguration"]["Options"]["awslogs-group"] == {"Ref": "LogGroup"}
            if container["Name"] in {"api", "ui"}:
                assert container["User"] not in {"0", "root"}


def test_fargate_api_task_environment_and_sidecar() -> None:
    stack, _ = fargate_with()
    task = stack["Resources"]["ApiTaskDefinition"]["Properties"]
    containers = {c["Name"]: c for c in task["ContainerDefinitions"]}
    assert set(containers) == {"api", "xray-daemon"}
    env = {e["Name"]: e["Value"] for e in containers["api"]["Environment"]}
    assert {*SERVICE_ENV, "AWS_REGION"} <= set(env)
    assert env["ORDERS_TRACING_ENABLED"] == "true"
    assert env["ORDERS_REQUEST_TIMEOUT_SECONDS"] == "30"
    assert containers["api"]["PortMappings"] == [{"ContainerPort": 8000, "Protocol": "tcp"}]
    ui = stack["Resources"]["UiTaskDefinition"]["Properties"]["ContainerDefinitions"][0]
    ui_env = {e["Name"]: e["Value"] for e in ui["Environment"]}
    assert "ORDERS_API_URL" in ui_env
    assert ui["PortMappings"] == [{"ContainerPort": 8501, "Protocol": "tcp"}]


def test_fargate_security_groups_chain_alb_to_tasks_only() -> None:
    stack, _ = fargate_with()
    ingress = cfn.by_type(stack, "AWS::EC2::SecurityGroupIngress")
    to_api = {r["Properties"]["SourceSecurityGroupId"]["Ref"] for r in ingress.values()}
    assert to_api == {"LoadBalancerSecurityGroup", "UiTaskSecurityGroup"}
    for group in ("ApiTaskSecurityGroup", "UiTaskSecurityGroup"):
        assert "SecurityGroupIngress" not in stack["Resources"][group]["Properties"]


@pytest.mark.parametrize(("per_az", "nat_count"), [("false", 1), ("true", 2)])
def test_network_two_azs_and_nat_per_parameter(per_az: str, nat_count: int) -> None:
    scenario = {**SCENARIOS["fargate"], "NatGatewayPerAz": per_az}
    root = cfn.resolve(cfn.load(cfn.ROOT_TEMPLATE), scenario)
    network = nested(root, "NetworkStack", scenario)
    assert len(cfn.by_type(network, "AWS::EC2::VPC")) == 1
    subnets = cfn.by_type(network, "AWS::EC2::Subnet")
    assert len(subnets) == 4
    assert all(s["Properties"]["MapPublicIpOnLaunch"] is False for s in subnets.values())
    assert len(cfn.by_type(network, "AWS::EC2::NatGateway")) == nat_count
    endpoints = cfn.by_type(network, "AWS::EC2::VPCEndpoint").values()
    services = {e["Properties"]["ServiceName"]["Fn::Sub"].rsplit(".", 1)[1] for e in endpoints}
    assert services == {"dynamodb", "s3"}
    assert all(e["Properties"]["VpcEndpointType"] == "Gateway" for e in endpoints)


# ------------------------------------------------------------------ edge, observability


@pytest.mark.parametrize("target", list(SCENARIOS))
def test_observability_alarms_on_the_app_metrics(target: str) -> None:
    deployment_target = SCENARIOS[target]["DeploymentTarget"]
    template = cfn.resolve(
        cfn.load(cfn.CFORM / "observability.yaml"), {"DeploymentTarget": deployment_target}
    )
    alarms = cfn.by_type(template, "AWS::CloudWatch::Alarm")
    metrics: set[tuple[str, str]] = set()
    for alarm in alarms.values():
        props = alarm["Properties"]
        for query in props.get("Metrics", []):
            if "MetricStat" in query:
                m = query["MetricStat"]["Metric"]
                metrics.add((m["Namespace"], m["MetricName"]))
        if "MetricName" in props:
            metrics.add((props["Namespace"], props["MetricName"]))
    expected = {
        ("OrdersService", "ServerErrors"), ("OrdersService", "Requests"),
        ("OrdersService", "Latency"), ("OrdersService", "OutboxEventAge"),
        ("AWS/SQS", "ApproximateNumberOfMessagesVisible"),
    }  # fmt: skip
    assert expected <= metrics
    throttle_or_cpu = (
        ("AWS/Lambda", "Throttles") if target == "lambda" else ("AWS/ECS", "CPUUtilization")
    )
    assert throttle_or_cpu in metrics
    latency = next(a for a in alarms.values() if a["Properties"].get("MetricName") == "Latency")
    assert latency["Properties"]["ExtendedStatistic"] == "p99"
    assert len(cfn.by_type(template, "AWS::CloudWatch::Dashboard")) == 1


# ------------------------------------------------------------------ data stack


def test_data_table_keys_indexes_and_protection() -> None:
    data = cfn.load(cfn.CFORM / "data.yaml")
    table = data["Resources"]["Table"]
    assert table["DeletionPolicy"] == table["UpdateReplacePolicy"] == "Retain"
    props = table["Properties"]
    assert props["BillingMode"] == "PAY_PER_REQUEST"
    assert props["KeySchema"] == [
        {"AttributeName": "pk", "KeyType": "HASH"},
        {"AttributeName": "sk", "KeyType": "RANGE"},
    ]
    gsis = {
        g["IndexName"]: (
            [(k["AttributeName"], k["KeyType"]) for k in g["KeySchema"]],
            g["Projection"],
        )
        for g in props["GlobalSecondaryIndexes"]
    }
    assert gsis == {
        "by_created": ([("entity", "HASH"), ("created_key", "RANGE")], {"ProjectionType": "ALL"}),
        "by_status": ([("status", "HASH"), ("created_key", "RANGE")], {"ProjectionType": "ALL"}),
        "by_customer": (
            [("customer", "HASH"), ("created_key", "RANGE")],
            {"ProjectionType": "ALL"},
        ),
        "by_customer_name": (
            [("entity", "HASH"), ("customer_key", "RANGE")],
            {"ProjectionType": "ALL"},
        ),
        "by_updated": (
            [("entity", "HASH"), ("updated_key", "RANGE")],
            {"ProjectionType": "ALL"},
        ),
    }
    assert props["PointInTimeRecoverySpecification"] == {"PointInTimeRecoveryEnabled": True}
    assert props["SSESpecification"]["SSEType"] == "KMS"
    assert props["StreamSpecification"] == {"StreamViewType": "NEW_AND_OLD_IMAGES"}
    assert props["TimeToLiveSpecification"] == {"AttributeName": "expiration", "Enabled": True}
    for name in ("Bucket", "Key"):
        assert data["Resources"][name]["DeletionPolicy"] == "Retain"
    assert data["Resources"]["Key"]["Properties"]["EnableKeyRotation"] is True


def test_data_rule_target_retries_then_dead_letters() -> None:
    data = cfn.load(cfn.CFORM / "data.yaml")
    rule = data["Resources"]["OrderEventsRule"]["Properties"]
    # moto answers 500 to a rule with EventBusName !Ref Bus: GetAtt only.
    assert rule["EventBusName"] == {"Fn::GetAtt": ["EventBus", "Name"]}
    assert rule["EventPattern"] == {
        "source": ["orders.service"],
        "detail-type": ["OrderCreated", "OrderStatusChanged"],
    }
    (target,) = rule["Targets"]
    assert set(target["RetryPolicy"]) == {"MaximumRetryAttempts", "MaximumEventAgeInSeconds"}
    assert target["DeadLetterConfig"]["Arn"] == {"Fn::GetAtt": ["EventsDlq", "Arn"]}
    queues = cfn.by_type(data, "AWS::SQS::Queue").values()
    assert queues
    for queue in queues:
        assert queue["Properties"]["KmsMasterKeyId"] == {"Fn::GetAtt": ["Key", "Arn"]}
    assert '{"Ref": "EventBus"}' not in json.dumps(data)


@pytest.mark.filterwarnings("ignore::UserWarning:moto.cloudformation.parsing")
def test_data_stack_deploys_alone_into_moto(monkeypatch: pytest.MonkeyPatch) -> None:
    """The local dev runner deploys cform/data.yaml into moto: it must create, with no parameters."""
    for name in ("AWS_ENDPOINT_URL", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    with mock_aws():
        client = boto3.client("cloudformation", region_name="us-east-1")
        client.create_stack(
            StackName="orders-local", TemplateBody=(cfn.CFORM / "data.yaml").read_text()
        )
        (stack,) = client.describe_stacks(StackName="orders-local")["Stacks"]
        assert stack["StackStatus"] == "CREATE_COMPLETE"
        outputs = {o["OutputKey"]: o["OutputValue"] for o in stack["Outputs"]}
        assert set(outputs) >= DATA_OUTPUTS
        assert outputs["EventBusName"] == "orders-dev-orders"
        table = boto3.client("dynamodb", region_name="us-east-1").describe_table(
            TableName=outputs["TableName"]
        )["Table"]
        assert {g["IndexName"] for g in table["GlobalSecondaryIndexes"]} == {
            "by_created", "by_status", "by_customer", "by_customer_name", "by_updated",
        }  # fmt: skip


def test_data_outputs_exact_names() -> None:
    data = cfn.load(cfn.CFORM / "data.yaml")
    assert set(data["Outputs"]) >= DATA_OUTPUTS
    for output in data["Outputs"].values():
        assert output.get("Description")
