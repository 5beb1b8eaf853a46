"""Locating and running the template tools (sam, cfn-lint, checkov, hadolint, ...)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.infra import cfn

TOOLS_BIN = cfn.REPO / ".tools" / "bin"

# Parameter sets the tests deploy "in their heads". The fargate ones carry image URIs
# because the template's Rules demand one for that target.
IMAGES = {
    "ApiImageUri": "123456789012.dkr.ecr.us-east-1.amazonaws.com/orders-api:abc",
    "UiImageUri": "123456789012.dkr.ecr.us-east-1.amazonaws.com/orders-ui:abc",
}
SCENARIOS: dict[str, dict[str, Any]] = {
    "lambda": {"DeploymentTarget": "lambda"},
    "fargate": {"DeploymentTarget": "fargate", **IMAGES},
    # A move in progress: both targets, /api split by FargateTrafficPercent.
    "both": {"DeploymentTarget": "both", "FargateTrafficPercent": 0, **IMAGES},
    "both-50": {"DeploymentTarget": "both", "FargateTrafficPercent": 50, **IMAGES},
}
# The runbook of a switch, one `make deploy` a step (cform/README.md), and its reverse.
RUNBOOK: dict[str, dict[str, Any]] = {
    "lambda": SCENARIOS["lambda"],
    "both-0": SCENARIOS["both"],
    "both-50": SCENARIOS["both-50"],
    "both-100": {"DeploymentTarget": "both", "FargateTrafficPercent": 100, **IMAGES},
    "fargate": SCENARIOS["fargate"],
}

RAW_TEMPLATES = [cfn.ROOT_TEMPLATE, *sorted(cfn.CFORM.glob("*.yaml"))]


def tool(name: str) -> str:
    """Path of a template tool: PATH first (make test prepends .tools/bin), then .tools/bin."""
    found = shutil.which(name) or shutil.which(name, path=str(TOOLS_BIN))
    if not found:
        pytest.fail(f"{name} not found on PATH or in {TOOLS_BIN}: run `make tools`")
    return found


def tools_python() -> str:
    """The Python that has aws-sam-translator: the one next to `sam`."""
    sam = Path(tool("sam"))
    for candidate in (sam.parent / "python", TOOLS_BIN / "python"):
        if candidate.exists():
            return str(candidate)
    pytest.fail("no Python next to sam: run `make tools`")


def tool_env() -> dict[str, str]:
    """Environment for the tools: no real AWS (fake credentials, fixed region, no telemetry)."""
    env = dict(os.environ)
    env.update(
        AWS_DEFAULT_REGION="us-east-1",
        AWS_REGION="us-east-1",
        AWS_ACCESS_KEY_ID="testing",
        AWS_SECRET_ACCESS_KEY="testing",
        SAM_CLI_TELEMETRY="0",
        BC_SKIP_MAPPING="TRUE",
        PATH=f"{TOOLS_BIN}{os.pathsep}{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}",
    )
    env.pop("AWS_PROFILE", None)
    return env


def run(
    argv: list[str], *, timeout: int = 300, cwd: Path = cfn.REPO
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        argv, cwd=cwd, env=tool_env(), capture_output=True, text=True, timeout=timeout, check=False
    )


def expand_root(params: dict[str, Any]) -> dict[str, Any]:
    """template.yaml expanded by aws-sam-translator and resolved for one parameter set."""
    proc = run(
        [
            tools_python(),
            str(Path(__file__).with_name("sam_expand.py")),
            str(cfn.ROOT_TEMPLATE),
            json.dumps(params),
        ],
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    return cfn.resolve(json.loads(proc.stdout), params)
