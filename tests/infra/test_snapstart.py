"""SnapStart on the API function: published versions behind the alias `live`, which every
front of the function invokes (the HTTP API, and the ALB's Lambda target group in `both`), and
SnapStart only where the runtime has it (python3.12+), as aws-sam-translator expands it."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.infra.cfn import ROOT_TEMPLATE, load
from tests.infra.tooling import SCENARIOS, expand_root

ALIAS = "ApiFunctionAliaslive"


def of_type(template: dict[str, Any], kind: str) -> dict[str, dict[str, Any]]:
    return {k: v for k, v in template["Resources"].items() if v["Type"] == kind}


@pytest.fixture(scope="module")
def on_311() -> dict[str, Any]:
    return expand_root({**SCENARIOS["both"], "PythonRuntime": "python3.11"})


@pytest.mark.parametrize("target", ["lambda", "both"])
def test_default_runtime_snapstarts_published_versions(
    expanded: dict[str, dict[str, Any]], target: str
) -> None:
    resources = expanded[target]["Resources"]
    function = resources["ApiFunction"]["Properties"]
    assert function["SnapStart"] == {"ApplyOn": "PublishedVersions"}
    (version_id,) = of_type(expanded[target], "AWS::Lambda::Version")
    alias = resources[ALIAS]["Properties"]
    assert alias["Name"] == "live"
    assert alias["FunctionVersion"] == {"Fn::GetAtt": [version_id, "Version"]}
    # The outbox function is not on the request path: no versions, no SnapStart charges.
    assert "SnapStart" not in resources["OutboxFunction"]["Properties"]


def test_python311_keeps_the_alias_without_snapstart(on_311: dict[str, Any]) -> None:
    """SnapStart does not exist for 3.11: the property goes, the alias stays (so a runtime
    change moves no integration)."""
    resources = on_311["Resources"]
    assert "SnapStart" not in resources["ApiFunction"]["Properties"]
    assert resources[ALIAS]["Properties"]["Name"] == "live"


@pytest.mark.parametrize("target", ["lambda", "both"])
def test_http_api_invokes_the_alias(expanded: dict[str, dict[str, Any]], target: str) -> None:
    resources = expanded[target]["Resources"]
    paths = resources["HttpApi"]["Properties"]["Body"]["paths"]
    uris = [
        json.dumps(method["x-amazon-apigateway-integration"]["uri"])
        for path in paths.values()
        for method in path.values()
    ]
    # One integration, and one grant, per route of the function: the proxy, the root and
    # the public routes without the authorizer.
    routes = [e for e in load(ROOT_TEMPLATE)["Resources"]["ApiFunction"]["Properties"]["Events"].values() if e["Type"] == "HttpApi"]  # fmt: skip
    assert len(uris) == len(routes) >= 2
    assert all(f"${{{ALIAS}}}/invocations" in uri for uri in uris), uris
    # API Gateway may invoke the alias (an unqualified grant would not cover it).
    permissions = of_type(expanded[target], "AWS::Lambda::Permission")
    api_grants = [p for p in permissions.values() if "execute-api" in json.dumps(p)]
    assert len(api_grants) == len(routes)
    assert all(p["Properties"]["FunctionName"] == {"Ref": ALIAS} for p in api_grants)


def test_alb_target_group_in_both_invokes_the_alias(expanded: dict[str, dict[str, Any]]) -> None:
    params = expanded["both"]["Resources"]["FargateStack"]["Properties"]["Parameters"]
    assert params["LambdaFunctionArn"] == {"Ref": ALIAS}
    assert expanded["fargate"]["Resources"]["FargateStack"]["Properties"]["Parameters"][
        "LambdaFunctionArn"
    ] == ""  # fmt: skip
