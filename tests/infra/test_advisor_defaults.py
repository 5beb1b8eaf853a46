"""The advisor prices the deployment the templates describe: its defaults are theirs."""

from __future__ import annotations

from advisor.profile import Deployment
from tests.infra import cfn


def _defaults(template: dict) -> dict:  # type: ignore[type-arg]
    return {name: spec.get("Default") for name, spec in template["Parameters"].items()}


def test_deployment_defaults_are_the_templates_parameter_defaults() -> None:
    root = cfn.load(cfn.ROOT_TEMPLATE)
    fargate = cfn.load(cfn.CFORM / "fargate.yaml")
    top, tasks = _defaults(root), _defaults(fargate)
    advisor = Deployment()
    assert {"x86_64": "x86", "arm64": "arm"}[top["Architecture"]] == advisor.arch
    assert int(top["ApiMemorySize"]) == advisor.lambda_memory_mb
    assert int(top["ApiDesiredCount"]) == int(tasks["ApiDesiredCount"]) == advisor.fargate_min_tasks
    assert int(top["ApiMaxCount"]) == int(tasks["ApiMaxCount"]) == advisor.fargate_max_tasks
    assert int(tasks["ApiCpu"]) / 1024 == advisor.fargate_task_vcpu
    assert int(tasks["ApiMemory"]) / 1024 == advisor.fargate_task_gb
    assert (2 if top["NatGatewayPerAz"] == "true" else 1) == advisor.nat_gateways
    policy = fargate["Resources"]["ApiCpuScaling"]["Properties"]
    assert (
        policy["TargetTrackingScalingPolicyConfiguration"]["TargetValue"] / 100
        == advisor.fargate_target_cpu
    )
    rules = [
        r
        for r in fargate["Resources"].values()
        if r["Type"] == "AWS::ElasticLoadBalancingV2::ListenerRule"
    ]
    assert len(rules) == advisor.alb_rules
