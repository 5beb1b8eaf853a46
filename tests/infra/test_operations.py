"""Operations, per target: alarms on the platform's own signals (a target that is down emits
no app metrics), log groups that outlive the stack, and the wiring those alarms read from
the other stacks' outputs."""

from __future__ import annotations

import ast
import importlib
import json
import re
from typing import Any

import pytest

from tests.infra import cfn
from tests.infra.tooling import SCENARIOS

EDGE = {"DeploymentTarget": "lambda", "EnableWaf": "true"}
ALL_SCENARIOS = {**SCENARIOS, "lambda-edge": EDGE}
# `both` runs both targets: the platform alarms and dimensions of each.
BOTH = {"both", "both-50"}

# Platform metrics per target: (namespace, metric) -> the parameters its dimensions read.
PLATFORM_ALARMS = {
    "lambda": {
        ("AWS/ApiGateway", "5xx"): {"HttpApiId"},
        ("AWS/ApiGateway", "Count"): {"HttpApiId"},
        ("AWS/ApiGateway", "Latency"): {"HttpApiId"},
        ("AWS/Lambda", "Errors"): {"ApiFunctionName"},
        ("AWS/Lambda", "Throttles"): {"ApiFunctionName"},
    },
    "fargate": {
        ("AWS/ApplicationELB", "HTTPCode_ELB_5XX_Count"): {"LoadBalancerFullName"},
        ("AWS/ApplicationELB", "HTTPCode_Target_5XX_Count"): {
            "LoadBalancerFullName", "ApiTargetGroupFullName",
        },
        ("AWS/ApplicationELB", "RequestCount"): {"LoadBalancerFullName", "ApiTargetGroupFullName"},
        ("AWS/ApplicationELB", "UnHealthyHostCount"): {
            "LoadBalancerFullName", "ApiTargetGroupFullName",
        },
        ("ECS/ContainerInsights", "RunningTaskCount"): {"ClusterName", "ApiServiceName"},
    },
}  # fmt: skip
PLATFORM_ALARMS["both"] = PLATFORM_ALARMS["both-50"] = {
    **PLATFORM_ALARMS["lambda"], **PLATFORM_ALARMS["fargate"],
}  # fmt: skip
# Where the root gets each dimension parameter it passes, per target.
DIMENSION_SOURCES: dict[str, dict[str, Any]] = {
    "lambda": {"HttpApiId": {"Ref": "HttpApi"}, "ApiFunctionName": {"Ref": "ApiFunction"}},
    "fargate": {
        "LoadBalancerFullName": {"Fn::GetAtt": ["FargateStack", "Outputs.LoadBalancerFullName"]},
        "ApiTargetGroupFullName": {
            "Fn::GetAtt": ["FargateStack", "Outputs.ApiTargetGroupFullName"]
        },
        "ClusterName": {"Fn::GetAtt": ["FargateStack", "Outputs.ClusterName"]},
        "ApiServiceName": {"Fn::GetAtt": ["FargateStack", "Outputs.ApiServiceName"]},
    },
}
DIMENSION_SOURCES["both"] = DIMENSION_SOURCES["both-50"] = {
    **DIMENSION_SOURCES["lambda"], **DIMENSION_SOURCES["fargate"],
}  # fmt: skip


@pytest.fixture(scope="module")
def deployed(expanded: dict[str, dict[str, Any]]) -> dict[str, dict[str, dict[str, Any]]]:
    """Per scenario: the expanded root ("root") and each nested stack it creates, resolved."""
    out = {}
    for name, params in ALL_SCENARIOS.items():
        # The edge scenario adds only plain CloudFormation: the raw root resolves it.
        root = (
            expanded[name] if name in expanded else cfn.resolve(cfn.load(cfn.ROOT_TEMPLATE), params)
        )
        out[name] = {"root": root, **cfn.nested_stacks(root, params)}
    return out


def alarm_metrics(template: dict[str, Any]) -> dict[tuple[str, str], list[dict[str, Any]]]:
    """(namespace, metric) -> the alarms' properties that read it (plain or metric math)."""
    found: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for alarm in cfn.by_type(template, "AWS::CloudWatch::Alarm").values():
        props = alarm["Properties"]
        metrics = [q["MetricStat"]["Metric"] for q in props.get("Metrics", []) if "MetricStat" in q]
        if "MetricName" in props:
            metrics.append(props)
        for metric in metrics:
            key = (metric["Namespace"], metric["MetricName"])
            found.setdefault(key, []).append({**props, "Dimensions": metric.get("Dimensions", [])})
    return found


def dimension_refs(alarm: dict[str, Any]) -> set[str]:
    """Parameters the alarm's dimensions read (literal dimensions, e.g. service=orders, aside)."""
    return {d["Value"]["Ref"] for d in alarm["Dimensions"] if isinstance(d["Value"], dict)}


# ------------------------------------------------------------------ alarms per target


@pytest.mark.parametrize("target", list(SCENARIOS))
def test_platform_alarms_per_target(
    deployed: dict[str, dict[str, dict[str, Any]]], target: str
) -> None:
    """A target that is down emits no app metric: the platform's own metrics must alarm."""
    observability = deployed[target]["ObservabilityStack"]
    metrics = alarm_metrics(observability)
    for (namespace, name), params in PLATFORM_ALARMS[target].items():
        assert (namespace, name) in metrics, (namespace, name)
        readers = metrics[(namespace, name)]
        assert any(dimension_refs(a) == params for a in readers), name
        for alarm in readers:
            assert alarm["AlarmActions"] == [{"Ref": "AlarmTopic"}]
    # No alarm of the other target (its dimensions would be "" here).
    if target in BOTH:
        return
    mine = set().union(*PLATFORM_ALARMS[target].values())
    other = "fargate" if target == "lambda" else "lambda"
    others = set().union(*PLATFORM_ALARMS[other].values()) - mine
    for readers in metrics.values():
        for alarm in readers:
            assert not dimension_refs(alarm) & others, alarm["AlarmName"]


@pytest.mark.parametrize("target", list(SCENARIOS))
def test_alarm_dimensions_are_wired_from_the_target(
    deployed: dict[str, dict[str, dict[str, Any]]], target: str
) -> None:
    """The root passes each dimension from the resource that has it, and the nested output it
    reads exists and is what it claims to be."""
    passed = deployed[target]["root"]["Resources"]["ObservabilityStack"]["Properties"]["Parameters"]
    for name, source in DIMENSION_SOURCES[target].items():
        assert passed[name] == source, name
    if target != "lambda":
        outputs = cfn.load(cfn.CFORM / "fargate.yaml")["Outputs"]
        assert outputs["LoadBalancerFullName"]["Value"] == {
            "Fn::GetAtt": ["LoadBalancer", "LoadBalancerFullName"]
        }
        assert outputs["ApiTargetGroupFullName"]["Value"] == {
            "Fn::GetAtt": ["ApiTargetGroup", "TargetGroupFullName"]
        }
        assert passed["ApiDesiredCount"] == {"Ref": "ApiDesiredCount"}


def test_fewer_running_tasks_than_desired_alarms_and_silence_counts_as_down(
    deployed: dict[str, dict[str, dict[str, Any]]],
) -> None:
    metrics = alarm_metrics(deployed["fargate"]["ObservabilityStack"])
    (running,) = metrics[("ECS/ContainerInsights", "RunningTaskCount")]
    assert running["ComparisonOperator"] == "LessThanThreshold"
    assert running["Threshold"] == {"Ref": "ApiDesiredCount"}
    assert running["Statistic"] == "Minimum"
    assert running["TreatMissingData"] == "breaching"
    # Container Insights publishes RunningTaskCount only when the cluster has it on.
    (cluster,) = cfn.by_type(deployed["fargate"]["FargateStack"], "AWS::ECS::Cluster").values()
    assert {"Name": "containerInsights", "Value": "enabled"} in cluster["Properties"][
        "ClusterSettings"
    ]


def rendered_dashboard(template: dict[str, Any]) -> dict[str, Any]:
    """The dashboard's body as CloudWatch reads it (its variables' values, placeholders as 1)."""
    (dashboard,) = cfn.by_type(template, "AWS::CloudWatch::Dashboard").values()
    body, variables = dashboard["Properties"]["DashboardBody"]["Fn::Sub"]
    for name, value in variables.items():
        body = body.replace(f"${{{name}}}", value["Fn::Sub"])
    rendered: dict[str, Any] = json.loads(re.sub(r"\$\{[^}]+\}", "1", body))
    return rendered


def dashboard_metrics(rendered: dict[str, Any]) -> set[tuple[str, str]]:
    """(namespace, metric) of every row, "." and "..." (same as the row above) resolved."""
    found: set[tuple[str, str]] = set()
    for widget in rendered["widgets"]:
        namespace = name = ""
        for row in widget["properties"]["metrics"]:
            if row[0] != "...":
                namespace = namespace if row[0] == "." else row[0]
                name = name if row[1] == "." else row[1]
            found.add((namespace, name))
    return found


def emitted_metrics() -> set[str]:
    """Every metric name src/orders passes to count() or milliseconds(), read from the code."""
    names: set[str] = set()
    for path in sorted((cfn.REPO / "src" / "orders").rglob("*.py")):
        module = importlib.import_module(
            ".".join(path.relative_to(cfn.REPO / "src").with_suffix("").parts)
        )
        for node in ast.walk(ast.parse(path.read_text())):
            if not (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Name)
                and node.func.id in {"count", "milliseconds"}
                and node.args
            ):
                continue
            arg = node.args[0]
            if isinstance(arg, ast.Attribute) and isinstance(arg.value, ast.Name):
                names.add(getattr(getattr(module, arg.value.id), arg.attr))
            elif isinstance(arg, ast.Name):
                names.add(getattr(module, arg.id))
            else:
                raise AssertionError(f"{path}:{node.lineno}: a metric name not read from a name")
    return names


@pytest.mark.parametrize("target", list(SCENARIOS))
def test_dashboard_is_valid_json_with_the_platform_widget(
    deployed: dict[str, dict[str, dict[str, Any]]], target: str
) -> None:
    rendered = rendered_dashboard(deployed[target]["ObservabilityStack"])
    namespaces = {
        metric[0]
        for widget in rendered["widgets"]
        for metric in widget["properties"]["metrics"]
        if metric[0] not in {".", "..."}
    }
    expected = {
        "lambda": {"AWS/ApiGateway", "AWS/Lambda"},
        "fargate": {"AWS/ApplicationELB", "ECS/ContainerInsights", "AWS/ECS"},
    }  # fmt: skip
    expected["both"] = expected["both-50"] = {
        "AWS/Lambda",
        "AWS/ApplicationELB",
        "ECS/ContainerInsights",
    }
    assert expected[target] <= namespaces
    # The side-by-side view of a move: the app's metrics by target.
    by_target = [
        m for w in rendered["widgets"] for m in w["properties"]["metrics"] if "target" in m
    ]
    assert by_target, "no per-target widget"


def test_every_metric_the_app_emits_is_on_the_dashboard(
    deployed: dict[str, dict[str, dict[str, Any]]],
) -> None:
    emitted = emitted_metrics()
    assert {"Requests", "Throttled", "ThrottleStoreFailures"} <= emitted, emitted
    for target in SCENARIOS:
        shown = dashboard_metrics(rendered_dashboard(deployed[target]["ObservabilityStack"]))
        missing = {name for name in emitted if ("OrdersService", name) not in shown}
        assert not missing, (target, missing)


def test_a_failing_throttle_store_alarms(deployed: dict[str, dict[str, dict[str, Any]]]) -> None:
    """The per-caller limit fails open (requests let through): an operator must hear of it."""
    for target in SCENARIOS:
        metrics = alarm_metrics(deployed[target]["ObservabilityStack"])
        (alarm,) = metrics[("OrdersService", "ThrottleStoreFailures")]
        assert alarm["Dimensions"] == [{"Name": "service", "Value": "orders"}]
        assert alarm["Threshold"] == 0
        assert alarm["ComparisonOperator"] == "GreaterThanThreshold"
        assert alarm["AlarmActions"] == [{"Ref": "AlarmTopic"}]


# ------------------------------------------------------------------ log groups per target

EXPECTED_LOG_GROUPS = {
    "lambda": {"root/OutboxLogGroup", "root/ApiLogGroup", "root/HttpApiAccessLogGroup"},
    "fargate": {"root/OutboxLogGroup", "NetworkStack/FlowLogGroup", "FargateStack/LogGroup"},
    "both": {
        "root/OutboxLogGroup", "root/ApiLogGroup", "root/HttpApiAccessLogGroup",
        "NetworkStack/FlowLogGroup", "FargateStack/LogGroup",
    },
    "lambda-edge": {
        "root/OutboxLogGroup", "root/ApiLogGroup", "root/HttpApiAccessLogGroup",
        "EdgeStack/WebAclLogGroup",
    },
}  # fmt: skip
EXPECTED_LOG_GROUPS["both-50"] = EXPECTED_LOG_GROUPS["both"]


@pytest.mark.parametrize("scenario", list(ALL_SCENARIOS))
def test_every_log_group_outlives_the_stack(
    deployed: dict[str, dict[str, dict[str, Any]]], scenario: str
) -> None:
    """A target switch or make destroy must not delete logs before their retention ends."""
    groups = {
        f"{stack}/{name}": group
        for stack, template in deployed[scenario].items()
        for name, group in cfn.by_type(template, "AWS::Logs::LogGroup").items()
    }
    assert set(groups) == EXPECTED_LOG_GROUPS[scenario]
    for name, group in groups.items():
        assert group.get("DeletionPolicy") == "Retain", name
        assert group.get("UpdateReplacePolicy") == "Retain", name
        assert "RetentionInDays" in group["Properties"], name
        assert "KmsKeyId" in group["Properties"], name


def test_a_retained_named_log_group_cannot_block_a_new_one() -> None:
    """WAF needs a fixed name prefix; a retained group of that exact name would make the next
    edge fail to create. The stack's UUID in the name keeps each creation's name new."""
    edge = cfn.load(cfn.CFORM / "edge.yaml")
    named = {
        name: group["Properties"]["LogGroupName"]
        for name, group in cfn.by_type(edge, "AWS::Logs::LogGroup").items()
        if "LogGroupName" in group["Properties"]
    }
    assert named, "no named log group in edge.yaml: nothing checked"
    for name, log_group_name in named.items():
        template, variables = log_group_name["Fn::Sub"]
        assert template.startswith("aws-waf-logs-"), name
        refs = cfn.find_intrinsics(variables, "Ref")
        assert "AWS::StackId" in refs, name


# ------------------------------------------------------------------ wiring


@pytest.mark.parametrize("scenario", list(ALL_SCENARIOS))
def test_nested_outputs_read_by_the_root_exist(
    deployed: dict[str, dict[str, dict[str, Any]]], scenario: str
) -> None:
    root = deployed[scenario]["root"]
    reads = [
        (logical_id, attribute)
        for logical_id, attribute in cfn.find_intrinsics(root, "Fn::GetAtt")
        if logical_id in deployed[scenario] and attribute.startswith("Outputs.")
    ]
    stacks = cfn.by_type(root, "AWS::CloudFormation::Stack")
    assert reads, "the root reads no nested output: nothing checked"
    assert stacks
    for logical_id, attribute in reads:
        outputs = deployed[scenario][logical_id].get("Outputs", {})
        assert attribute.removeprefix("Outputs.") in outputs, (logical_id, attribute)
    for logical_id, stack in stacks.items():
        template = cfn.load(cfn.REPO / stack["Properties"]["TemplateURL"])
        required = {n for n, p in template.get("Parameters", {}).items() if "Default" not in p}
        passed = set(stack["Properties"].get("Parameters", {}))
        assert required <= passed, (logical_id, required - passed)
        assert passed <= set(template.get("Parameters", {})), (logical_id, passed)
