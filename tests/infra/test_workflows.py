"""GitHub workflows validate against the GitHub workflow schema and do what the issue asks;
samconfig.toml has the named environments and one stack name for both targets."""

from __future__ import annotations

import os
import subprocess
import tomllib
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.infra import cfn
from tests.infra.tooling import run, tools_python

WORKFLOWS = sorted((cfn.REPO / ".github" / "workflows").glob("*.yml"))

# check-jsonschema's own vendored copy of the GitHub workflow schema, applied with jsonschema.
# The CLI is not imported: check-jsonschema 0.38 needs click>=8.2, and aws-sam-cli pins
# click 8.1 in the same tools virtualenv, so `check-jsonschema` itself fails to start there.
VALIDATE = """
import importlib.util, json, pathlib, sys
import jsonschema, yaml
spec = importlib.util.find_spec("check_jsonschema")
root = pathlib.Path(next(iter(spec.submodule_search_locations)))
schema = json.loads((root / "builtin_schemas/vendor/github-workflows.json").read_text())
validator = jsonschema.Draft7Validator(schema, format_checker=jsonschema.FormatChecker())
failed = 0
for path in sys.argv[1:]:
    doc = yaml.safe_load(pathlib.Path(path).read_text())
    # PyYAML reads YAML 1.1, where the key `on` is the boolean True; GitHub reads 1.2.
    doc["on"] = doc.pop(True, doc.get("on"))
    for error in validator.iter_errors(doc):
        failed += 1
        print(path, "/".join(map(str, error.absolute_path)), error.message)
sys.exit(1 if failed else 0)
"""


def load_workflow(path: Path) -> dict[str, Any]:
    doc: dict[Any, Any] = yaml.safe_load(path.read_text())
    doc["on"] = doc.pop(True, doc.get("on"))  # YAML 1.1 `on` is True; GitHub reads 1.2
    return doc


def test_workflows_exist() -> None:
    assert {p.name for p in WORKFLOWS} == {"ci.yml", "deploy.yml"}


def test_workflows_match_the_github_schema() -> None:
    proc = run([tools_python(), "-c", VALIDATE, *map(str, WORKFLOWS)])
    assert proc.returncode == 0, proc.stdout + proc.stderr


def steps(workflow: dict[str, Any]) -> list[dict[str, Any]]:
    return [step for job in workflow["jobs"].values() for step in job["steps"]]


def test_ci_runs_make_test() -> None:
    ci = load_workflow(cfn.REPO / ".github" / "workflows" / "ci.yml")
    assert any(step.get("run", "").strip() == "make test" for step in steps(ci))
    assert ci["permissions"] == {"contents": "read"}


def test_deploy_uses_oidc_and_a_target_input() -> None:
    deploy = load_workflow(cfn.REPO / ".github" / "workflows" / "deploy.yml")
    target = deploy["on"]["workflow_dispatch"]["inputs"]["target"]
    assert target["options"] == ["lambda", "both", "fargate"]
    # The weight's choices are the template's (a value outside them fails only at deploy).
    weight = deploy["on"]["workflow_dispatch"]["inputs"]["weight"]
    allowed = cfn.load(cfn.ROOT_TEMPLATE)["Parameters"]["FargateTrafficPercent"]["AllowedValues"]
    assert weight["options"] == [str(v) for v in allowed]
    assert weight["default"] == "0"
    assert deploy["permissions"]["id-token"] == "write"
    all_steps = steps(deploy)
    credentials = next(
        s
        for s in all_steps
        if s.get("uses", "").startswith("aws-actions/configure-aws-credentials")
    )
    assert "role-to-assume" in credentials["with"]
    assert "aws-access-key-id" not in credentials["with"]


def deploy_step() -> dict[str, Any]:
    deploy = load_workflow(cfn.REPO / ".github" / "workflows" / "deploy.yml")
    (step,) = [s for s in steps(deploy) if "make deploy" in s.get("run", "")]
    return step


def test_deploy_workflow_is_make_deploy_and_nothing_else() -> None:
    """One code path with a laptop: the image push check, Stage and the region live in
    make/infra.mk (tested in test_make.py), not in a second copy here."""
    deploy = load_workflow(cfn.REPO / ".github" / "workflows" / "deploy.yml")
    scripts = "\n".join(s.get("run", "") for s in steps(deploy))
    for duplicate in ("sam deploy", "sam build", "docker push", "docker build"):
        assert duplicate not in scripts
    # The stage input has no default of its own (samconfig.toml's is the one default).
    stage = deploy["on"]["workflow_dispatch"]["inputs"]["stage"]
    assert stage.get("default", "") == ""
    assert stage.get("required") is False


def run_deploy_step(
    tmp_path: Path, **given: str
) -> tuple[subprocess.CompletedProcess[str], list[str] | None]:
    """Run the step's script with bash and a fake make that records its arguments.

    Returns the process and make's arguments (None when make never ran).
    """
    step = deploy_step()
    fake = tmp_path / "make"
    fake.write_text('#!/bin/sh\nfor a in "$@"; do echo "$a"; done > "$MAKE_ARGS"\n')
    fake.chmod(0o755)
    env = {
        "PATH": f"{tmp_path}{os.pathsep}{os.environ['PATH']}",
        "MAKE_ARGS": str(tmp_path / "args"),
        "STACK_NAME": "orders",
        "IMAGE_TAG": "abc",
        **{k: "x" for k in step["env"]},
        "WEIGHT_INPUT": "0",
        "STAGE_INPUT": "",
        **given,
    }
    proc = subprocess.run(
        ["bash", "-eo", "pipefail", "-c", step["run"]],
        env=env, capture_output=True, text=True, timeout=30, check=False,
    )  # fmt: skip
    recorded = tmp_path / "args"
    return proc, recorded.read_text().splitlines() if recorded.exists() else None


@pytest.mark.parametrize(
    ("stage_input", "stage_arg"), [("", None), ("prod", "STAGE=prod")], ids=["default", "given"]
)
def test_deploy_step_passes_stage_only_when_given(
    tmp_path: Path, stage_input: str, stage_arg: str | None
) -> None:
    proc, args = run_deploy_step(tmp_path, TARGET="fargate", STAGE_INPUT=stage_input)
    assert proc.returncode == 0, proc.stderr
    assert args is not None
    assert args[:2] == ["deploy", "TARGET=fargate"]
    assert [a for a in args if a.startswith("STAGE=")] == ([stage_arg] if stage_arg else [])
    assert "IMAGE_TAG=abc" in args
    (sam_args,) = [a for a in args if a.startswith("SAM_DEPLOY_ARGS=")]
    assert "--role-arn x" in sam_args
    assert "--no-confirm-changeset" in sam_args
    assert "DEPLOY_PARAMS=PermissionsBoundaryArn=x" in args


@pytest.mark.parametrize(
    ("target", "weight", "passed"),
    [("both", "50", "WEIGHT=50"), ("both", "0", "WEIGHT=0"), ("lambda", "50", None)],
)
def test_deploy_step_passes_the_weight_of_both(
    tmp_path: Path, target: str, weight: str, passed: str | None
) -> None:
    """`both` gets the weight; another target with a weight is refused before make runs."""
    proc, args = run_deploy_step(tmp_path, TARGET=target, WEIGHT_INPUT=weight)
    if passed is None:
        assert proc.returncode != 0
        assert "both only" in proc.stderr
        assert args is None
        return
    assert proc.returncode == 0, proc.stderr
    assert args is not None
    assert args[:3] == ["deploy", f"TARGET={target}", passed]


def test_deploy_step_stops_without_the_boundary(tmp_path: Path) -> None:
    """The execution role creates roles only with the boundary: no deploy may start without it."""
    proc, args = run_deploy_step(tmp_path, TARGET="lambda", BOUNDARY_ARN="")
    assert proc.returncode != 0
    assert "AWS_PERMISSIONS_BOUNDARY_ARN" in proc.stderr
    assert args is None


@pytest.fixture(scope="module")
def samconfig() -> dict[str, Any]:
    return tomllib.loads((cfn.REPO / "samconfig.toml").read_text())


def test_samconfig_environments_share_one_stack(samconfig: dict[str, Any]) -> None:
    default = samconfig["default"]["deploy"]["parameters"]
    fargate = samconfig["fargate"]["deploy"]["parameters"]
    # One stack for both: a switch of target is an update, and the data stack stays.
    assert default["stack_name"] == fargate["stack_name"]
    assert "DeploymentTarget=lambda" in default["parameter_overrides"]
    assert "DeploymentTarget=fargate" in fargate["parameter_overrides"]
    for env in (default, fargate):
        assert "CAPABILITY_IAM" in env["capabilities"]
        assert "CAPABILITY_AUTO_EXPAND" in env["capabilities"]
