"""The order of every step of a switch, proven from the templates (cform/README.md, runbook).

CloudFormation creates and updates a resource only after everything it references (Ref,
GetAtt, Sub, DependsOn) is complete, a nested stack only when all its resources are, and it
deletes what the new template no longer has only in the update's cleanup, after every create
and update succeeded. So, for each step lambda -> both 0 -> 50 -> 100 -> fargate and back:

- what moves traffic (the front door's origin, or the ALB rule's weights) is a resource that
  survives the step, and in the new template it waits for every resource of the side that
  will take the traffic (ECS services wait for their tasks to be stable, with a circuit
  breaker; a nested stack completes only when all of it has);
- a side that appears in a step gets no traffic in that step (weight 0, or no origin yet);
- the side that loses traffic is only ever absent from the new template (deleted in the
  cleanup), never changed first, and it had no traffic left when it goes.
"""

from __future__ import annotations

import itertools
import json
import re
from typing import Any

import pytest

from tests.infra import cfn
from tests.infra.tooling import RUNBOOK, SCENARIOS, expand_root

FORWARD = ["lambda", "both-0", "both-50", "both-100", "fargate"]
STEPS = list(itertools.pairwise(FORWARD))
STEPS += [(b, a) for a, b in reversed(STEPS)]

# What serves /api for the front door, per side (root-level logical ids; SAM names the stage
# and permissions it generates for the HTTP API).
# One invoke permission per HttpApi event (the proxy, the root, the four public routes).
PERMISSIONS = {
    "ApiFunctionApiPermission", "ApiFunctionApiRootPermission", "ApiFunctionHealthPermission",
    "ApiFunctionReadyPermission", "ApiFunctionDocsPermission", "ApiFunctionOpenApiPermission",
}  # fmt: skip
HTTP_API_SIDE = {"HttpApi", "HttpApiApiGatewayDefaultStage", "ApiFunction", *PERMISSIONS}
TASKS_SIDE = {"ApiService", "ApiTargetGroup", "ApiTaskDefinition", "HttpListener", "LoadBalancer"}
LAMBDA_BEHIND_ALB = {"LambdaTargetGroup", "LambdaInvokePermission"}
# What each step may delete (in its cleanup): the side that stopped taking traffic.
FARGATE_ALARMS = {
    "ObservabilityStack/EcsCpuAlarm", "ObservabilityStack/LoadBalancer5xxAlarm",
    "ObservabilityStack/ApiTargetServerErrorRateAlarm", "ObservabilityStack/ApiUnhealthyHostsAlarm",
    "ObservabilityStack/ApiRunningTasksAlarm",
}  # fmt: skip
LAMBDA_ALARMS = {
    "ObservabilityStack/LambdaThrottlesAlarm", "ObservabilityStack/HttpApiServerErrorRateAlarm",
    "ObservabilityStack/HttpApiLatencyP99Alarm", "ObservabilityStack/ApiFunctionErrorsAlarm",
}  # fmt: skip
REMOVED = {
    ("both-0", "lambda"): {
        "root/NetworkStack", "root/FargateStack", "EdgeStack/VpcOrigin", *FARGATE_ALARMS,
    },
    ("both-100", "fargate"): {
        "root/ApiFunction", "root/ApiFunctionRole", "root/ApiLogGroup", "root/HttpApi",
        "root/HttpApiAccessLogGroup", "root/HttpApiApiGatewayDefaultStage",
        *(f"root/{permission}" for permission in PERMISSIONS),
        # AutoPublishAlias: the alias `live` and the published version (its id carries a hash).
        "root/ApiFunctionAliaslive", "root/ApiFunctionVersion*",
        "FargateStack/LambdaTargetGroup", "FargateStack/LambdaInvokePermission", *LAMBDA_ALARMS,
    },
}  # fmt: skip


@pytest.fixture(scope="module")
def states(expanded: dict[str, dict[str, Any]]) -> dict[str, dict[str, dict[str, Any]]]:
    """Each runbook state as deployed: the expanded root and every nested stack, resolved."""
    out = {}
    for name, params in RUNBOOK.items():
        scenario = next((s for s, p in SCENARIOS.items() if p == params), None)
        root = expanded[scenario] if scenario is not None else expand_root(params)
        out[name] = cfn.deployed_stacks(root, params)
    return out


def resources(state: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """stack/LogicalId -> resource, over the root and its nested stacks."""
    return {
        f"{stack}/{name}": resource
        for stack, template in state.items()
        for name, resource in template.get("Resources", {}).items()
    }


def changed(before: dict[str, Any], after: dict[str, Any]) -> set[str]:
    old, new = resources(before), resources(after)
    return {
        name
        for name in old.keys() & new.keys()
        if json.dumps(old[name].get("Properties"), sort_keys=True)
        != json.dumps(new[name].get("Properties"), sort_keys=True)
    }


def origin(state: dict[str, dict[str, Any]]) -> str:
    return str(state["root"]["Resources"]["EdgeStack"]["Properties"]["Parameters"]["OriginKind"])


def stand_in_weight(state: dict[str, dict[str, Any]], parameter: str) -> int:
    """The value the root passes for a weight parameter (from its TrafficSplit mapping)."""
    root = cfn.load(cfn.ROOT_TEMPLATE)
    passed = state["root"]["Resources"]["FargateStack"]["Properties"]["Parameters"][parameter]
    if isinstance(passed, int):
        return passed
    table, _, side = passed["Fn::FindInMap"]
    percent = state["_params"]["FargateTrafficPercent"]
    return int(root["Mappings"][table][str(percent)][side])


@pytest.fixture(scope="module")
def runbook(
    states: dict[str, dict[str, dict[str, Any]]],
) -> dict[str, dict[str, dict[str, Any]]]:
    # The weights need the step's parameters; keep them next to the stacks.
    return {
        name: {**state, "_params": cfn.parameter_values(cfn.load(cfn.ROOT_TEMPLATE), RUNBOOK[name])}
        for name, state in states.items()
    }


def stacks_only(state: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {k: v for k, v in state.items() if not k.startswith("_")}


def share(state: dict[str, dict[str, Any]]) -> dict[str, int]:
    """Who gets /api: 'http-api', 'tasks' or 'lambda-alb' -> percent."""
    if origin(state) == "http-api":
        return {"http-api": 100}
    by_group = {
        name: stand_in_weight(state, group["Weight"]["Ref"])
        for name, group in _forward_groups(state).items()
    }
    total = sum(by_group.values())
    names = {"ApiTargetGroup": "tasks", "LambdaTargetGroup": "lambda-alb"}
    return {names[g]: 100 * w // total for g, w in by_group.items() if w}


def _forward_groups(state: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    (action,) = state["FargateStack"]["Resources"]["ApiListenerRule"]["Properties"]["Actions"]
    if "TargetGroupArn" in action:
        return {action["TargetGroupArn"]["Ref"]: {"Weight": {"Ref": "FargateWeight"}}}
    return {g["TargetGroupArn"]["Ref"]: g for g in action["ForwardConfig"]["TargetGroups"]}


# ------------------------------------------------------------------ the runbook itself


def test_the_runbook_moves_traffic_as_its_steps_say(
    runbook: dict[str, dict[str, dict[str, Any]]],
) -> None:
    shares = {name: share(state) for name, state in runbook.items()}
    assert shares == {
        "lambda": {"http-api": 100},
        "both-0": {"lambda-alb": 100},
        "both-50": {"tasks": 50, "lambda-alb": 50},
        "both-100": {"tasks": 100},
        "fargate": {"tasks": 100},
    }


@pytest.mark.parametrize(("before", "after"), STEPS, ids=[f"{a}->{b}" for a, b in STEPS])
def test_the_front_door_survives_every_step(
    runbook: dict[str, dict[str, dict[str, Any]]], before: str, after: str
) -> None:
    """Same logical ids, no Condition, not removed or added: the URL never changes."""
    for state in (runbook[before], runbook[after]):
        edge = state["root"]["Resources"]["EdgeStack"]
        assert "Condition" not in edge
        assert edge["Properties"]["TemplateURL"] == "cform/edge.yaml"
        assert "Condition" not in state["EdgeStack"]["Resources"]["Distribution"]
    old, new = resources(stacks_only(runbook[before])), resources(stacks_only(runbook[after]))
    assert {"root/EdgeStack", "EdgeStack/Distribution"} <= old.keys() & new.keys()


@pytest.mark.parametrize(("before", "after"), STEPS, ids=[f"{a}->{b}" for a, b in STEPS])
def test_traffic_moves_only_after_the_side_taking_it_is_complete(
    runbook: dict[str, dict[str, dict[str, Any]]], before: str, after: str
) -> None:
    old, new = runbook[before], runbook[after]
    root = new["root"]
    if origin(old) != origin(new):
        # The front door's origin changes: EdgeStack is updated, and it waits for the side.
        assert "root/EdgeStack" in changed(stacks_only(old), stacks_only(new))
        waits = cfn.waits_for(root, "EdgeStack")
        if origin(new) == "http-api":
            assert waits >= HTTP_API_SIDE, HTTP_API_SIDE - waits
        else:
            # The whole Fargate stack (tasks stable, rule, target groups), and in `both` the
            # function it registers.
            assert {"FargateStack", "NetworkStack", "ApiFunction"} <= waits
            fargate = new["FargateStack"]
            assert set(fargate["Resources"]) >= TASKS_SIDE | LAMBDA_BEHIND_ALB
            rule_waits = cfn.waits_for(fargate, "ApiListenerRule")
            assert {"ApiTargetGroup", "LambdaTargetGroup", "LambdaInvokePermission"} <= rule_waits
    else:
        # Nothing about the front door's origin changes.
        edge_params = (s["root"]["Resources"]["EdgeStack"]["Properties"] for s in (old, new))
        assert json.dumps(next(edge_params), sort_keys=True) == json.dumps(
            next(edge_params), sort_keys=True
        )
    if weights_differ(old, new):
        # The weights are the rule's (parameters of the Fargate stack, changed in place).
        # Each group the rule forwards to is one it waits for; a group gaining traffic existed
        # (and so was complete and healthy) in the previous step.
        forward = set(_forward_groups(new))
        assert forward <= cfn.waits_for(new["FargateStack"], "ApiListenerRule")
        gaining = {g for g in forward if gain(old, new, g) > 0}
        assert gaining <= set(old.get("FargateStack", {}).get("Resources", {})), gaining
        if "ApiTargetGroup" in gaining:
            assert "ApiService" in old["FargateStack"]["Resources"]
        if "LambdaTargetGroup" in gaining:
            assert "ApiFunction" in old["root"]["Resources"]


def weights_differ(old: dict[str, dict[str, Any]], new: dict[str, dict[str, Any]]) -> bool:
    if "FargateStack" not in old or "FargateStack" not in new:
        return False
    return share(old) != share(new) and origin(old) == origin(new) == "load-balancer"


def gain(old: dict[str, dict[str, Any]], new: dict[str, dict[str, Any]], group: str) -> int:
    names = {"ApiTargetGroup": "tasks", "LambdaTargetGroup": "lambda-alb"}
    return share(new).get(names[group], 0) - share(old).get(names[group], 0)


@pytest.mark.parametrize(("before", "after"), STEPS, ids=[f"{a}->{b}" for a, b in STEPS])
def test_a_side_created_in_a_step_gets_no_traffic_in_it(
    runbook: dict[str, dict[str, dict[str, Any]]], before: str, after: str
) -> None:
    old, new = resources(stacks_only(runbook[before])), resources(stacks_only(runbook[after]))
    added = new.keys() - old.keys()
    takes = share(runbook[after])
    if "root/FargateStack" in added:
        # lambda -> both 0: the tasks exist now, but every /api request goes to the function
        # (through the new ALB once the front door's origin moved, which waits for all of it).
        assert takes.get("tasks", 0) == 0
    if "root/ApiFunction" in added:
        # fargate -> both 100: the function joins the ALB with weight 0.
        assert takes.get("lambda-alb", 0) == 0
        assert origin(runbook[after]) == "load-balancer"


@pytest.mark.parametrize(("before", "after"), STEPS, ids=[f"{a}->{b}" for a, b in STEPS])
def test_the_side_losing_traffic_goes_only_in_the_cleanup(
    runbook: dict[str, dict[str, dict[str, Any]]], before: str, after: str
) -> None:
    old_state, new_state = stacks_only(runbook[before]), stacks_only(runbook[after])
    old, new = resources(old_state), resources(new_state)
    removed = old.keys() - new.keys()
    # Exactly the losing side (a removed nested stack takes its resources along), its alarms,
    # and only at the last step of each direction.
    gone_stacks = {r.split("/", 1)[1] for r in removed if r.startswith("root/")}
    top = {r for r in removed if r.split("/", 1)[0] not in gone_stacks}
    top = {
        re.sub(r"^root/ApiFunctionVersion[0-9a-f]+$", "root/ApiFunctionVersion*", r) for r in top
    }
    assert top == REMOVED.get((before, after), set())
    # It is simply absent from the new template (CloudFormation deletes it after every create
    # and update succeeded), so nothing left references it ...
    for stack, template in new_state.items():
        gone = {r.split("/", 1)[1] for r in removed if r.startswith(f"{stack}/")}
        for name, graph_edges in cfn.dependencies(template).items():
            assert not graph_edges & gone, (stack, name)
        assert not cfn.references(template.get("Outputs", {})) & gone, stack
    # ... and nothing sent it traffic any more before the step: the front door's origin or
    # the weights had already moved off it in the previous step (or move in this one, in a
    # resource that survives and is updated before the cleanup).
    if removed:
        if (before, after) == ("both-100", "fargate"):
            assert share(runbook[before]) == {"tasks": 100}
        if (before, after) == ("both-0", "lambda"):
            # The ALB still took traffic until the front door's origin moved back; that update
            # (EdgeStack) completes before the cleanup deletes the Fargate stack.
            assert "root/EdgeStack" in changed(old_state, new_state)
            assert "FargateStack" not in cfn.waits_for(new_state["root"], "EdgeStack")
